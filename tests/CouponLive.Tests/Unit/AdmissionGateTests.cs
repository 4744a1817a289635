using Microsoft.Extensions.Time.Testing;
using CouponLive.Campaigns;
using CouponLive.Issuance;
using CouponLive.Storage;

namespace CouponLive.Tests.Unit;

/// <summary>The in-process gate's decisions, on a clock the test moves (FakeTimeProvider).</summary>
public sealed class AdmissionGateTests
{
    private readonly FakeTimeProvider _clock = new();

    private StoredCampaign Campaign(int total, params (double FromSeconds, double ToSeconds, int? Quota)[] windows)
    {
        var now = MillisecondClock.Now(_clock);
        return new StoredCampaign(1, "c", total,
            windows.Select(w => new CampaignWindow(now.AddSeconds(w.FromSeconds), now.AddSeconds(w.ToSeconds), w.Quota)).ToList(),
            null, null, now);
    }

    private async Task<InProcessAdmissionGate> Loaded(StoredCampaign campaign, params IssuedCoupon[] committed)
    {
        var gate = new InProcessAdmissionGate(_clock);
        await gate.LoadAsync(campaign, GateSnapshot.Reserve(committed, 0, campaign.TotalQuantity).Snapshot, default);
        return gate;
    }

    [Fact]
    public async Task Unloaded_campaign_answers_not_loaded()
    {
        var gate = new InProcessAdmissionGate(_clock);
        Assert.Equal(AdmissionOutcome.NotLoaded, (await gate.AdmitAsync(Campaign(1, (0, 10, null)), "u", default)).Outcome);
    }

    [Fact]
    public async Task Admits_in_sequence_then_sells_out_and_holders_get_their_sequence_back()
    {
        var campaign = Campaign(2, (-1, 10, null));
        var gate = await Loaded(campaign);
        var a = await gate.AdmitAsync(campaign, "a", default);
        var b = await gate.AdmitAsync(campaign, "b", default);
        Assert.Equal((AdmissionOutcome.Admitted, 1L), (a.Outcome, a.Sequence));
        Assert.Equal((AdmissionOutcome.Admitted, 2L), (b.Outcome, b.Sequence));
        Assert.Equal(AdmissionOutcome.SoldOut, (await gate.AdmitAsync(campaign, "c", default)).Outcome);
        var again = await gate.AdmitAsync(campaign, "a", default);
        Assert.Equal((AdmissionOutcome.AlreadyAdmitted, 1L, a.At), (again.Outcome, again.Sequence, again.At));
    }

    [Fact]
    public async Task Window_boundaries_are_half_open_by_the_gate_clock()
    {
        var campaign = Campaign(10, (5, 10, null), (20, 30, null));
        var gate = await Loaded(campaign);
        var early = await gate.AdmitAsync(campaign, "u1", default);
        Assert.Equal(AdmissionOutcome.NotOpen, early.Outcome);
        Assert.Equal(campaign.Windows[0].StartsAt, early.OpensAt);

        _clock.Advance(TimeSpan.FromSeconds(5));
        var first = await gate.AdmitAsync(campaign, "u1", default);
        Assert.Equal((AdmissionOutcome.Admitted, CouponSource.Window(0)), (first.Outcome, first.Source));

        _clock.Advance(TimeSpan.FromSeconds(5)); // exactly the end: closed
        var between = await gate.AdmitAsync(campaign, "u2", default);
        Assert.Equal(AdmissionOutcome.NotOpen, between.Outcome);
        Assert.Equal(campaign.Windows[1].StartsAt, between.OpensAt);

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(CouponSource.Window(1), (await gate.AdmitAsync(campaign, "u2", default)).Source);

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(AdmissionOutcome.Ended, (await gate.AdmitAsync(campaign, "u3", default)).Outcome);
        // A holder asking after the end still gets their coupon: retries stay idempotent.
        Assert.Equal(AdmissionOutcome.AlreadyAdmitted, (await gate.AdmitAsync(campaign, "u1", default)).Outcome);
    }

    [Fact]
    public async Task Window_quota_limits_each_window_and_points_to_the_next()
    {
        var campaign = Campaign(10, (-1, 10, 1), (20, 30, 1));
        var gate = await Loaded(campaign);
        Assert.Equal(AdmissionOutcome.Admitted, (await gate.AdmitAsync(campaign, "a", default)).Outcome);
        var full = await gate.AdmitAsync(campaign, "b", default);
        Assert.Equal(AdmissionOutcome.WindowSoldOut, full.Outcome);
        Assert.Equal(campaign.Windows[1].StartsAt, full.OpensAt);
        _clock.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal(AdmissionOutcome.Admitted, (await gate.AdmitAsync(campaign, "b", default)).Outcome);
        Assert.Equal(AdmissionOutcome.WindowSoldOut, (await gate.AdmitAsync(campaign, "c", default)).Outcome);
    }

    [Fact]
    public async Task Rebuilt_gate_continues_after_the_highest_committed_sequence()
    {
        var campaign = Campaign(3, (-1, 10, null));
        var at = MillisecondClock.Now(_clock);
        // Sequence 2 was admitted but never committed (a crash): its stock comes back, its number does not.
        var gate = await Loaded(campaign, new IssuedCoupon(1, "a", 1, "x", at, CouponSource.Window(0)), new IssuedCoupon(1, "c", 3, "y", at, CouponSource.Window(0)));
        Assert.Equal((AdmissionOutcome.AlreadyAdmitted, 3L), ((await gate.AdmitAsync(campaign, "c", default)).Outcome, (await gate.AdmitAsync(campaign, "c", default)).Sequence));
        var next = await gate.AdmitAsync(campaign, "d", default);
        Assert.Equal((AdmissionOutcome.Admitted, 4L), (next.Outcome, next.Sequence));
        Assert.Equal(AdmissionOutcome.SoldOut, (await gate.AdmitAsync(campaign, "e", default)).Outcome);
    }

    [Fact]
    public async Task Concurrent_admissions_never_exceed_the_stock()
    {
        var campaign = Campaign(500, (-1, 10, null));
        var gate = await Loaded(campaign);
        var results = await Task.WhenAll(Enumerable.Range(0, 5_000).Select(i => Task.Run(async () => await gate.AdmitAsync(campaign, $"u{i % 2_500}", default))));
        var admitted = results.Where(r => r.Outcome == AdmissionOutcome.Admitted).ToList();
        Assert.Equal(500, admitted.Count);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), admitted.Select(r => r.Sequence).Order());
    }

    [Theory]
    [InlineData(-10, 0, "scheduled")]
    [InlineData(1, 0, "open")]
    [InlineData(1, 5, "sold_out")]
    [InlineData(12, 0, "between_windows")]
    [InlineData(25, 2, "between_windows")] // second window's quota of 2 is used up, a third window follows
    [InlineData(45, 0, "ended")]
    public void Status_follows_the_clock_and_the_counts(int atSecond, int issuedInWindow, string expected)
    {
        var campaign = Campaign(5, (0, 10, null), (20, 30, 2), (35, 40, null));
        var now = MillisecondClock.Now(_clock).AddSeconds(atSecond);
        var window = atSecond is >= 20 and < 30 ? 1 : 0;
        var perWindow = new int[3];
        perWindow[window] = issuedInWindow;
        var (status, _, _) = CampaignStatus.Compute(campaign, new CampaignCounts(issuedInWindow, perWindow), now);
        Assert.Equal(expected, status);
    }
}
