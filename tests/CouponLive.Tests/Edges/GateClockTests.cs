using System.Net;
using CouponLive.Issuance;
using CouponLive.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponLive.Tests.Edges;

/// <summary>
/// Window changes are judged by the gate on its own clock (Redis's in production), atomically with the change, not by
/// the process that asks: here the server's own clock runs 20 s behind Redis's (within the tokens' clock skew). A window
/// that has started by the gate's clock keeps its start, a window holding coupons is never dropped, and ending "the open
/// window" ends the one open by the gate's clock, also while the gate holds no state.
/// </summary>
public sealed class GateClockTests() : EdgeServer(ServerMode.Production)
{
    private static readonly TimeSpan Behind = TimeSpan.FromSeconds(-20);

    protected override TimeProvider? Clock => new SkewedClock(Behind);

    private static string Window(DateTimeOffset start, DateTimeOffset end) =>
        $$"""{"startsAt": "{{CampaignRequests.Iso(start)}}", "endsAt": "{{CampaignRequests.Iso(end)}}"}""";

    private async Task<long> CampaignAsync(params (DateTimeOffset Start, DateTimeOffset End)[] windows)
    {
        using var admin = await AdminAsync();
        var body = $$"""{"name": "clock-{{Guid.NewGuid():N}}", "totalQuantity": 100, "windows": [{{string.Join(", ", windows.Select(w => Window(w.Start, w.End)))}}]}""";
        var created = await admin.PostAsync("/api/v1/campaigns", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.ReadJsonAsync())["id"]!.GetValue<long>();
    }

    [Fact]
    public async Task A_window_started_by_the_gates_clock_keeps_its_start_though_the_process_thinks_it_has_not()
    {
        var now = DateTimeOffset.UtcNow; // Redis's clock, as this machine's
        var id = await CampaignAsync((now.AddSeconds(-10), now.AddMinutes(2)));
        foreach (var _ in Enumerable.Range(0, 3)) Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("early"), id)).Status);

        // By the process's clock the window opens in 10 s; moving its start 5 s after Redis's now would put the three
        // coupons just issued before their window (I4).
        using var admin = await AdminAsync();
        var moved = await admin.PatchCampaignAsync(id, $$"""{"windows": [{{Window(now.AddSeconds(5), now.AddMinutes(2))}}]}""");
        var problem = await moved.AssertProblemAsync(HttpStatusCode.Conflict, "campaign.window_started");
        Assert.Equal("windows[0]", problem["field"]!.GetValue<string>());
        Assert.Equal(now.AddSeconds(-10).ToUnixTimeMilliseconds(), (await StoredAsync(id)).Windows[0].StartsAt.ToUnixTimeMilliseconds());
        await AssertInvariantsAsync(id);
    }

    [Fact]
    public async Task A_window_holding_coupons_is_never_dropped_and_a_rebuild_reads_every_stored_coupon()
    {
        var now = DateTimeOffset.UtcNow;
        // Window 0 ended; window 1 open by Redis's clock, not yet by the process's.
        var id = await CampaignAsync((now.AddMinutes(-5), now.AddMinutes(-4)), (now.AddSeconds(-10), now.AddMinutes(2)));
        var holders = Enumerable.Range(0, 3).Select(_ => NewUser("holder")).ToList();
        foreach (var u in holders) Assert.Equal(HttpStatusCode.Created, (await IssueAsync(u, id)).Status);

        using var admin = await AdminAsync();
        var dropped = await admin.PatchCampaignAsync(id, $$"""{"windows": [{{Window(now.AddMinutes(-5), now.AddMinutes(-4))}}]}""");
        Assert.Equal("windows[1]", (await dropped.AssertProblemAsync(HttpStatusCode.Conflict, "campaign.window_started"))["field"]!.GetValue<string>());
        Assert.Equal(2, (await StoredAsync(id)).Windows.Count);

        // The gate is rebuilt from the store (as after an eviction), and answers from every stored coupon.
        await Server.Services.GetRequiredService<IAdmissionGate>().EvictAsync(id, CancellationToken.None);
        foreach (var u in holders) Assert.Equal(HttpStatusCode.OK, (await IssueAsync(u, id)).Status);
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("after"), id)).Status);
        await AssertInvariantsAsync(id);
    }

    [Fact]
    public async Task Ending_the_open_window_ends_the_one_open_by_the_gates_clock_also_with_no_gate_state()
    {
        var now = DateTimeOffset.UtcNow;
        var id = await CampaignAsync((now.AddSeconds(-10), now.AddMinutes(2)), (now.AddMinutes(5), now.AddMinutes(6)));
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("early"), id)).Status);
        await Server.Services.GetRequiredService<IAdmissionGate>().EvictAsync(id, CancellationToken.None);

        using var admin = await AdminAsync();
        var ended = await admin.PostAsync($"/api/v1/campaigns/{id}/windows/current/end", null);
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var endsAt = (await StoredAsync(id)).Windows[0].EndsAt;
        Assert.True(Math.Abs((endsAt - DateTimeOffset.UtcNow).TotalSeconds) < 5, $"window 0 ends at {endsAt:O}: by the gate's clock, not the process's");
        var (status, code) = await IssueAsync(NewUser("late"), id);
        Assert.Equal((HttpStatusCode.Conflict, "campaign.not_open"), (status, code));
        await AssertInvariantsAsync(id);
    }
}
