using System.Diagnostics;
using CouponLive.Tests.Infrastructure;
using Npgsql;

namespace CouponLive.Tests.Faults;

/// <summary>
/// A dependency gone or slow in the middle of a sale: while Redis is down, issue requests answer 503 with
/// Retry-After at once, shed by its circuit breaker (counted in /metrics) rather than waiting out a timeout, and
/// the sale serves again after its return; while the store is stuck, the writer's bounded queue turns the surplus
/// away at once instead of holding it in memory. Afterwards, from the database, I1-I6 hold. How fast the 503s
/// and the recovery are is measured by scripts/bench.sh, not asserted here.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed class OutageDrills : SaleDrill
{
    [Fact]
    public async Task Redis_stopped_for_five_seconds_mid_sale_answers_503_from_its_breaker_and_serves_again_when_it_returns()
    {
        // Long timeouts (the commit's, the Redis client's): a request that waited on either instead of being shed
        // would take 10 s.
        var timeout = TimeSpan.FromSeconds(10);
        UseRedisOptions("asyncTimeout=10000,syncTimeout=10000");
        var servers = await StartServersAsync(2, new() { ["Issuance__CommitTimeout"] = "00:00:10" });
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "redis-down") { RequestTimeout = timeout * 3 };
        var shedBefore = await ShedAsync(servers);

        int winnersBeforeReturn = 0;
        long returning = 0;
        // A sale of some seconds (50 clicks at a time, each holding its place 0.4 s): 400 coupons would go in well
        // under a second at full speed, before the dependency is even down, and the outage would miss the sale.
        var sale = driver.RunAsync(users: 800, clicks: 2, concurrency: 50, budget: TimeSpan.FromSeconds(180), maxAttemptsPerClick: 400, pause: TimeSpan.FromMilliseconds(400));
        var fault = await WhenAsync(driver, 100, async () =>
        {
            await Services("stop-redis");
            await Task.Delay(TimeSpan.FromSeconds(5));
            // No one can newly win while it is down (a win needs the gate and a commit): who wins from here won after it returned.
            winnersBeforeReturn = driver.Winners;
            returning = Stopwatch.GetTimestamp();
            await Services("start-redis");
        }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.True(fault.Successes < driver.Successes, $"the outage must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        Assert.True(driver.Other + driver.TransportErrors == 0, $"{driver}\n{string.Join("\n", servers.Select(s => s.Output))}");
        // Fail-fast: Redis's circuit breaker shed most 503s, and none waited anywhere near a timeout.
        await AssertShedByTheBreakerAsync(servers, shedBefore, "redis_circuit_open", driver, timeout, "redis stopped 5 s");
        // Recovery: users won after Redis returned (its data gone: the gate rebuilt from the store), and the sale sold exactly.
        Assert.True(driver.Winners > winnersBeforeReturn, $"nobody won after Redis returned ({winnersBeforeReturn} winners before): {driver}");
        await AssertOutcomeAsync(campaignId, driver);
        foreach (var s in servers) Assert.False(s.HasExited, s.Output);
        TestContext.Current.SendDiagnosticMessage(
            $"drill redis stopped 5 s: {winnersBeforeReturn} winners before it returned, {driver.Winners - winnersBeforeReturn} after; " +
            $"first success {driver.FirstSuccessAfter(returning)?.TotalSeconds:F2} s after its start began; {driver}");
    }

    [Fact]
    public async Task A_stuck_store_fills_the_bounded_writer_queue_then_answers_503_at_once_and_recovers()
    {
        const int Bound = 60;
        var servers = await StartServersAsync(1, new()
        {
            ["Issuance__MaxPendingCommits"] = Bound.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Issuance__CommitTimeout"] = "00:00:01",
        });
        var server = servers[0];
        var campaignId = await CreateCampaignAsync(server.BaseAddress, 600);
        using var metricsClient = new HttpClient { BaseAddress = server.BaseAddress };
        var before = await PrometheusText.ReadAsync(metricsClient);
        var driver = new SaleDriver([server.BaseAddress], campaignId, "stuck");

        // The store stalls: every commit waits on a table lock held for 4 s, as behind a long migration.
        await using var blocker = new NpgsqlConnection(State.Postgres);
        await blocker.OpenAsync();
        var sale = driver.RunAsync(users: 3_000, clicks: 1, concurrency: 300, budget: TimeSpan.FromSeconds(120), maxAttemptsPerClick: 400);
        double maxPending = 0, maxWorkingSet = 0;
        var fault = await WhenAsync(driver, 50, async () =>
        {
            await using var tx = await blocker.BeginTransactionAsync();
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE coupons IN ACCESS EXCLUSIVE MODE", blocker, tx)) await lockTable.ExecuteNonQueryAsync();
            var until = Stopwatch.GetTimestamp() + 4 * Stopwatch.Frequency;
            while (Stopwatch.GetTimestamp() < until)
            {
                var m = await PrometheusText.ReadAsync(metricsClient);
                maxPending = Math.Max(maxPending, m.Get("couponlive_writer_pending"));
                maxWorkingSet = Math.Max(maxWorkingSet, m.Get("dotnet_process_memory_working_set_bytes"));
                await Task.Delay(100);
            }
            await tx.RollbackAsync();
        }, TimeSpan.FromSeconds(60));
        await sale;

        var after = await PrometheusText.ReadAsync(metricsClient);
        var shed = after.Get("couponlive_issue_shed_total", ("reason", "writer_queue_full"));
        // Requests decided in the same instant may pass the check together: the bound holds within the concurrency.
        Assert.True(maxPending <= Bound + 300, $"writer queue reached {maxPending} with a bound of {Bound}");
        Assert.True(maxPending >= Bound / 2, $"the stall should have filled the queue: {maxPending}");
        Assert.True(shed > 100, $"requests past the bound should have been shed: {shed}; {driver}");
        Assert.True(maxWorkingSet < before.Get("dotnet_process_memory_working_set_bytes") + 150e6,
            $"working set grew from {before.Get("dotnet_process_memory_working_set_bytes") / 1e6:F0} MB to {maxWorkingSet / 1e6:F0} MB");
        Assert.True(fault.Successes < driver.Successes, $"the sale must go on after the stall: {fault.Successes} successes then, {driver} at the end");
        Assert.True(driver.Other + driver.TransportErrors == 0, $"{driver}\n{server.Output}");
        await AssertOutcomeAsync(campaignId, driver);
        TestContext.Current.SendDiagnosticMessage(
            $"drill store stuck 4 s: writer queue at most {maxPending} (bound {Bound}), {shed} shed, working set " +
            $"{before.Get("dotnet_process_memory_working_set_bytes") / 1e6:F0} MB before, at most {maxWorkingSet / 1e6:F0} MB during; {driver}");
    }

    private static Task<string> Services(string command) => Shell.ScriptAsync("services.sh", command);
}
