using System.Globalization;
using System.Text.RegularExpressions;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>
/// The deployments teams run: three server processes on a Redis Cluster (three primaries, each with a
/// replica) or on a primary with two replicas under Sentinel, with a primary killed or the cluster
/// resharded in the middle of a sale. Replication is asynchronous, so a promoted replica may lack the
/// last admissions; the gate must notice, rebuild the campaign from the database and sell exactly.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed partial class ReplicatedRedisDrills : SaleDrill
{
    private static readonly Dictionary<string, string> Settings = new() { ["Reconciler__Delay"] = "00:00:01" };

    [Fact]
    public async Task Killing_the_cluster_primary_of_a_running_campaign_promotes_its_replica_and_the_sale_sells_exactly()
    {
        var cluster = Own(await RedisTopology.StartClusterAsync(primaries: 3, replicasPerPrimary: 1));
        UseRedis(cluster);
        var servers = await StartServersAsync(3, Settings);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var owner = await cluster.PrimaryOfKeyAsync(MetaKey(campaignId));
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "cluster-kill");

        var sale = driver.RunAsync(users: 2_400, clicks: 2, concurrency: 240, budget: TimeSpan.FromSeconds(120));
        var fault = await WhenAsync(driver, 100, () => { cluster.Kill(owner); return Task.CompletedTask; }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.True(fault.Successes < driver.Successes, $"the kill must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        // The promotion, as a surviving node sees it: gossip carries it there some time after the sale resumed.
        var survivor = owner == cluster.BasePort ? cluster.BasePort + 1 : cluster.BasePort;
        var promoted = await cluster.WaitForNewPrimaryOfKeyAsync(MetaKey(campaignId), owner, survivor, TimeSpan.FromSeconds(60));
        Assert.NotEqual(owner, promoted);
        await AssertOutcomeAsync(campaignId, driver);
        AssertRebuiltFromTheStore(servers);
        ReportRecovery("cluster primary killed", driver, fault);
    }

    [Fact]
    public async Task A_sentinel_failover_of_the_primary_mid_sale_loses_nothing_and_the_sale_sells_exactly()
    {
        var sentinel = Own(await RedisTopology.StartSentinelAsync());
        UseRedis(sentinel);
        var servers = await StartServersAsync(3, Settings);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var primary = await sentinel.SentinelPrimaryAsync();
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "sentinel-kill");

        var sale = driver.RunAsync(users: 2_400, clicks: 2, concurrency: 240, budget: TimeSpan.FromSeconds(120));
        var fault = await WhenAsync(driver, 100, () => { sentinel.Kill(primary); return Task.CompletedTask; }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.True(fault.Successes < driver.Successes, $"the kill must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        // The sale resumed as soon as one sentinel promoted a replica (the client follows the first announcement);
        // the others learn of it from the leader's announcements a few seconds later. What counts is the failover
        // itself: every sentinel names the same new primary, and it is one.
        var saleEnded = System.Diagnostics.Stopwatch.GetTimestamp();
        var promoted = await sentinel.WaitForFailoverAsync(primary, TimeSpan.FromSeconds(60));
        Assert.NotEqual(primary, promoted);
        TestContext.Current.SendDiagnosticMessage(
            $"drill sentinel: all sentinels named {promoted} (killed {primary}) {System.Diagnostics.Stopwatch.GetElapsedTime(saleEnded).TotalSeconds:F2} s after the sale ended");
        await AssertOutcomeAsync(campaignId, driver);
        AssertRebuiltFromTheStore(servers);
        ReportRecovery("sentinel primary killed", driver, fault);
    }

    [Fact]
    public async Task Adding_a_fourth_primary_and_rebalancing_mid_sale_moves_the_campaign_and_every_answer_stays_right()
    {
        var cluster = Own(await RedisTopology.StartClusterAsync(primaries: 3, replicasPerPrimary: 0));
        UseRedis(cluster);
        var servers = await StartServersAsync(3, Settings);

        // A new three-primary cluster splits the slots as 0-5460, 5461-10922, 10923-16383. Rebalancing onto an
        // empty fourth primary starts with the primary that has the most (5461-10922) and moves its lowest
        // slots first: pick a campaign whose slot is among the first 600, so its keys migrate early in the
        // rebalance, while it sells.
        long campaignId;
        int slot;
        do
        {
            campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 5_000);
            slot = int.Parse(await RedisTopology.CliAsync(cluster.BasePort, "cluster", "keyslot", MetaKey(campaignId)), CultureInfo.InvariantCulture);
        } while (slot is < 5_461 or >= 6_061);
        var before = await cluster.PrimaryOfSlotAsync(slot);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "rebalance");

        // A long sale (5,000 coupons at most 500 a second), so coupons are still issued when the slot has moved.
        var sale = driver.RunAsync(users: 6_000, clicks: 1, concurrency: 50, budget: TimeSpan.FromSeconds(120), pause: TimeSpan.FromMilliseconds(100));
        var added = 0;
        var movedAt = -1;
        var fault = await WhenAsync(driver, 100, async () =>
        {
            added = await cluster.AddEmptyNodeAsync(offset: 3);
            var seed = $"127.0.0.1:{cluster.BasePort}";
            await Shell.RunAsync("redis-cli", "--cluster", "add-node", $"127.0.0.1:{added}", seed);
            // Every node, the new one included, must know all four and agree on the slots before any can move.
            int[] nodes = [cluster.BasePort, cluster.BasePort + 1, cluster.BasePort + 2, added];
            await WaitUntilAsync(async () =>
                (await Task.WhenAll(nodes.Select(p => RedisTopology.CliAsync(p, "cluster", "info")))).All(info => info.Contains("cluster_known_nodes:4", StringComparison.Ordinal) && info.Contains("cluster_state:ok", StringComparison.Ordinal))
                && (await Shell.RunAsync("redis-cli", "--cluster", "check", seed)).Contains("[OK] All nodes agree", StringComparison.Ordinal));
            var rebalance = Shell.RunAsync("redis-cli", "--cluster", "rebalance", seed, "--cluster-use-empty-masters");
            while (!rebalance.IsCompleted && movedAt < 0)
            {
                if (await cluster.PrimaryOfSlotAsync(slot) == added) movedAt = driver.Successes;
                await Task.Delay(50);
            }
            await rebalance;
        }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.NotEqual(before, added);
        Assert.Equal(added, await cluster.PrimaryOfSlotAsync(slot));
        Assert.True(movedAt >= 0 && movedAt < driver.Successes, $"coupons must be issued after the campaign's slot moved: {movedAt} successes when it moved, {driver} at the end");
        Assert.True(fault.Successes < movedAt, $"and before: {fault.Successes} successes when the rebalance began");
        Assert.Equal(0, driver.Other);
        await AssertOutcomeAsync(campaignId, driver);
        TestContext.Current.SendDiagnosticMessage($"drill rebalance: the campaign's slot moved at {movedAt} of {driver.Successes} successes");
        ReportRecovery("cluster rebalanced onto a new primary", driver, fault);
    }

    /// <summary>Evidence of healing: some process rebuilt the gate from a database that already held coupons.</summary>
    private static void AssertRebuiltFromTheStore(IEnumerable<ServerProcess> servers) =>
        Assert.Contains(servers, s => RebuiltWithCoupons().IsMatch(s.Output));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                // redis-cli --cluster check exits 1 until the nodes agree
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException("The cluster did not converge in 60 s.");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"loaded from the store with [1-9]\d* issued")]
    private static partial Regex RebuiltWithCoupons();
}
