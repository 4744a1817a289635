using CouponLive.Campaigns;
using CouponLive.Storage;

namespace CouponLive.Tests.Unit;

/// <summary>The rules of an operator's change, without a server: what may change, what is refused, what is recorded.</summary>
public sealed class CampaignChangesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    // Window 0 ended, window 1 open now, window 2 in the future.
    private static readonly StoredCampaign Campaign = new(7, "sale", 100,
        [
            new CampaignWindow(Now.AddHours(-2), Now.AddHours(-1), 10),
            new CampaignWindow(Now.AddMinutes(-5), Now.AddMinutes(5), 20),
            new CampaignWindow(Now.AddHours(1), Now.AddHours(2), null),
        ],
        null, null, Now.AddDays(-1), Version: 3);

    private static WindowRequest W(DateTimeOffset start, DateTimeOffset end, long? quota = null) =>
        new(start.ToString("O"), end.ToString("O"), quota);

    private static CampaignPatch Windows(params WindowRequest[] windows) =>
        new(default, default, new Patched<IReadOnlyList<WindowRequest?>>(true, windows), default, default);

    private static CampaignCounts Issued(int total, params int[] perWindow) => new(total, perWindow.Length == 0 ? [0, 0, 0] : perWindow);

    private static readonly WindowRequest Ended = W(Now.AddHours(-2), Now.AddHours(-1), 10);
    private static readonly WindowRequest Open = W(Now.AddMinutes(-5), Now.AddMinutes(5), 20);

    [Fact]
    public void Future_windows_change_and_the_open_one_may_end_later()
    {
        var (planned, failure) = CampaignChanges.Update(Campaign, Issued(30), Windows(Ended, W(Now.AddMinutes(-5), Now.AddMinutes(30), 20), W(Now.AddHours(3), Now.AddHours(4), 5)), Now);
        Assert.Null(failure);
        Assert.Null(WindowChangeRule.Check(Campaign.Windows, planned!.Campaign.Windows, Now));
        Assert.Equal(Now.AddMinutes(30), planned!.Campaign.Windows[1].EndsAt);
        Assert.Equal(Now.AddHours(3), planned.Campaign.Windows[2].StartsAt);
        Assert.Equal(["windows[1]", "windows[2]"], planned.Changes.Select(c => c.Field));
    }

    [Theory]
    [InlineData("move-ended", "windows[0]")]
    [InlineData("end-ended-later", "windows[0].endsAt")]
    [InlineData("open-quota", "windows[1]")]
    [InlineData("open-ends-in-past", "windows[1].endsAt")]
    [InlineData("drop-open", "windows[1]")]
    [InlineData("new-in-past", "windows[1]")]
    public void Started_windows_stay_and_new_ones_start_ahead_by_the_gate_clock(string change, string field)
    {
        WindowRequest[] windows = change switch
        {
            "move-ended" => [W(Now.AddHours(-3), Now.AddHours(-1), 10), Open],
            "end-ended-later" => [W(Now.AddHours(-2), Now.AddMinutes(-30), 10), Open],
            "open-quota" => [Ended, W(Now.AddMinutes(-5), Now.AddMinutes(5), 50)],
            "open-ends-in-past" => [Ended, W(Now.AddMinutes(-5), Now.AddMinutes(-1), 20)],
            "drop-open" => [Ended],
            // A new window in the past sorts before the open one, which then is not where it was.
            _ => [Ended, W(Now.AddMinutes(-30), Now.AddMinutes(-20)), Open],
        };
        // The plan takes it (no window holds coupons); the gate, judging on its clock at the change, refuses it.
        var planned = CampaignChanges.Update(Campaign, Issued(0), Windows(windows), Now).Value!;
        var refusal = WindowChangeRule.Check(Campaign.Windows, planned.Campaign.Windows, Now);
        var failure = WindowChangeRule.Failure(refusal!.Value, Campaign.Windows);
        Assert.Equal("campaign.window_started", failure.Code);
        Assert.StartsWith(field, failure.Field, StringComparison.Ordinal);
        // On a clock before any window started, the same change is fine: what counts is the gate's clock, not the plan's.
        Assert.Null(WindowChangeRule.Check(Campaign.Windows, planned.Campaign.Windows, Now.AddHours(-4)));
    }

    [Fact]
    public void A_window_that_holds_coupons_is_never_moved_or_dropped_whatever_the_clock()
    {
        // The future window 2 holds coupons (its process's clock ran behind the gate's): dropping it is refused by the plan.
        var (planned, failure) = CampaignChanges.Update(Campaign, Issued(3, 1, 1, 1), Windows(Ended, Open), Now);
        Assert.Null(planned);
        Assert.Equal(("campaign.window_started", "windows[2]"), (failure!.Code, failure.Field));
        // Its end may still move.
        Assert.Null(CampaignChanges.Update(Campaign, Issued(3, 1, 1, 1), Windows(Ended, Open, W(Now.AddHours(1), Now.AddHours(3))), Now).Failure);
    }

    [Fact]
    public void Quantity_goes_down_only_to_the_issued_count_and_repeating_a_value_records_nothing()
    {
        var lower = new CampaignPatch(default, new Patched<long?>(true, 29), default, default, default);
        Assert.Equal("campaign.quantity_below_issued", CampaignChanges.Update(Campaign, Issued(30), lower, Now).Failure!.Code);
        var same = new CampaignPatch(new Patched<string>(true, " sale "), new Patched<long?>(true, 100), default, default, default);
        Assert.Empty(CampaignChanges.Update(Campaign, Issued(30), same, Now).Value!.Changes);
    }

    [Fact]
    public void Pause_resume_and_cancel_record_their_state_and_a_cancelled_campaign_stays_so()
    {
        var paused = CampaignChanges.Pause(Campaign, Now).Value!;
        Assert.Equal(Now, paused.Campaign.PausedAt);
        Assert.Empty(CampaignChanges.Pause(paused.Campaign, Now.AddSeconds(1)).Value!.Changes);
        Assert.Null(CampaignChanges.Resume(paused.Campaign).Value!.Campaign.PausedAt);

        var cancelled = CampaignChanges.Cancel(paused.Campaign, revokeIssued: false, Now);
        Assert.Equal(Issuance.GateState.Cancelled, cancelled.Campaign.State);
        Assert.Null(cancelled.Campaign.PausedAt);
        Assert.Equal("campaign.cancelled", CampaignChanges.Resume(cancelled.Campaign).Failure!.Code);
        Assert.Equal("campaign.cancelled", CampaignChanges.Update(cancelled.Campaign, Issued(0), Windows(Ended, Open), Now).Failure!.Code);
        var revoked = CampaignChanges.Cancel(cancelled.Campaign, revokeIssued: true, Now.AddMinutes(1));
        Assert.Equal(Issuance.GateState.Revoked, revoked.Campaign.State);
        Assert.Equal(Now, revoked.Campaign.CancelledAt);
        Assert.Equal(["issuedRevoked"], revoked.Changes.Select(c => c.Field));
    }
}
