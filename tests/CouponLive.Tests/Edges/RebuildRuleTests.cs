using System.Net;
using CouponLive.Issuance;
using CouponLive.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CouponLive.Tests.Edges;

/// <summary>
/// The rebuild rule (docs/architecture.md): a gate rebuilt from the store never reuses a sequence number and needs no
/// second eviction, even while commits of the gate before it are in flight; and one rebuild serves every request
/// waiting for it, whichever of them goes away.
/// </summary>
public abstract class RebuildRuleTests(ServerMode mode) : EdgeServer(mode)
{
    [Fact]
    public async Task A_rebuild_while_commits_are_in_flight_reuses_no_number_and_evicts_nothing()
    {
        var id = (await Server.CreateCampaignAsync(200))["id"]!.GetValue<long>();
        // The store is slow to commit the first group: its admissions are still in flight when the gate goes.
        Plan.Delay("ICouponStore.CommitAsync", TimeSpan.FromSeconds(1.5), times: 1);
        var first = CrowdAsync(id, Enumerable.Range(0, 40).Select(i => $"first-{i}"));
        Assert.True(await EventuallyAsync(() => Task.FromResult(Plan.Calls("ICouponStore.CommitAsync") > 0), TimeSpan.FromSeconds(30)));
        await LoseGateAsync(id);
        var evictions = Plan.Calls("IAdmissionGate.EvictAsync");

        var second = await CrowdAsync(id, Enumerable.Range(0, 40).Select(i => $"second-{i}"));
        var answers = (await first).Concat(second).ToList();

        Assert.True(answers.All(a => a.Status == HttpStatusCode.Created), string.Join(", ", answers.Where(a => a.Status != HttpStatusCode.Created).GroupBy(a => (a.Status, a.Code)).Select(g => $"{g.Count()} x {(int)g.Key.Status} {g.Key.Code}")));
        Assert.Equal(80, answers.Select(a => a.Code).Distinct().Count());
        Assert.Equal(evictions, Plan.Calls("IAdmissionGate.EvictAsync")); // no eviction after ours: the store refused nothing
        var report = await AssertInvariantsAsync(id);
        Assert.Equal(80, report.Rows);
    }

    /// <summary>The gate's state goes while commits are in flight: evicted in process; in Redis all of it, outbox too (a flush).</summary>
    protected virtual Task LoseGateAsync(long campaignId) =>
        Server.Services.GetRequiredService<IAdmissionGate>().EvictAsync(campaignId, CancellationToken.None).AsTask();

    [Fact]
    public async Task One_rebuild_serves_every_waiting_request_even_when_the_first_goes_away()
    {
        var id = (await Server.CreateCampaignAsync(200))["id"]!.GetValue<long>();
        await Server.Services.GetRequiredService<IAdmissionGate>().EvictAsync(id, CancellationToken.None);
        Plan.Delay(SnapshotCall, TimeSpan.FromSeconds(1), times: 1);

        // The first request starts the rebuild and goes away; the others wait for the same one.
        using var impatient = Server.NewClient(TestTokens.Mint("impatient"));
        impatient.Timeout = TimeSpan.FromMilliseconds(300);
        var gone = impatient.PostAsync($"/api/v1/campaigns/{id}/issue", null);
        Assert.True(await EventuallyAsync(() => Task.FromResult(Plan.Calls(SnapshotCall) > 0), TimeSpan.FromSeconds(30)));
        var waiting = CrowdAsync(id, Enumerable.Range(0, 20).Select(i => $"patient-{i}"));
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => gone);
        var answers = await waiting;

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Equal(1, Plan.Calls(SnapshotCall));
        await AssertInvariantsAsync(id);
    }
}

public sealed class EmbeddedRebuildRuleTests() : RebuildRuleTests(ServerMode.Embedded);

public sealed class ProductionRebuildRuleTests() : RebuildRuleTests(ServerMode.Production)
{
    protected override Task LoseGateAsync(long campaignId) =>
        RedisAsync(["DEL", .. new[] { "meta", "holders", "windows", "wcount", "outbox" }.Select(part => GateKey(campaignId, part))]);
}
