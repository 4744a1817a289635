using System.Diagnostics;
using CouponLive.Tests.Infrastructure;
using Npgsql;

namespace CouponLive.Tests.Faults;

/// <summary>
/// A dependency gone or slow in the middle of a sale: while Redis is down, issue requests answer 503 with
/// Retry-After in milliseconds (the circuit is open) and the sale serves again within a second or two of
/// its return; while the store is stuck, the writer's bounded queue turns the surplus away at once instead
/// of holding it in memory. Afterwards, from the database, I1-I6 hold.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed class OutageDrills : SaleDrill
{
    [Fact]
    public async Task Redis_stopped_for_five_seconds_mid_sale_answers_503_in_milliseconds_and_serves_again_within_two_seconds()
    {
        var servers = await StartServersAsync(2);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "redis-down");

        long stopped = 0, returned = 0;
        var sale = driver.RunAsync(users: 2_000, clicks: 2, concurrency: 200, budget: TimeSpan.FromSeconds(120), maxAttemptsPerClick: 200);
        var fault = await WhenAsync(driver, 100, async () =>
        {
            await Services("stop-redis");
            stopped = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(5));
            await Services("start-redis");
            returned = Stopwatch.GetTimestamp();
        }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.True(fault.Successes < driver.Successes, $"the outage must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        Assert.True(driver.Other + driver.TransportErrors == 0, $"{driver}\n{string.Join("\n", servers.Select(s => s.Output))}");
        // While Redis was away, every refusal came at once.
        var during = driver.UnavailableLatenciesMs(stopped, returned);
        Assert.True(during.Length > 100, $"the outage should have been answered with 503s: {during.Length}; {driver}");
        var p99 = Percentile(during, 0.99);
        // Alone the drill measures 20-37 ms; beside the rest of the suite on 2 shared cores, up to ~52 ms. What it
        // guards against is a request hanging until its timeout (seconds), so the bound is 100 ms.
        Assert.True(p99 < 100, $"503 p99 while Redis was down: {p99:F1} ms (of {during.Length}); {driver}");
        var back = driver.FirstSuccessAfter(returned);
        Assert.True(back is not null && back.Value < TimeSpan.FromSeconds(2), $"first success {back?.TotalSeconds:F2} s after Redis returned; {driver}");
        await AssertOutcomeAsync(campaignId, driver);
        foreach (var s in servers) Assert.False(s.HasExited, s.Output);
        TestContext.Current.SendDiagnosticMessage(
            $"drill redis stopped 5 s: 503 p50 {Percentile(during, 0.5):F1} ms, p99 {p99:F1} ms, max {during[^1]:F1} ms over {during.Length}; " +
            $"first success {back!.Value.TotalSeconds:F2} s after Redis returned; {driver}");
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

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static Task<string> Services(string command) => Shell.ScriptAsync("services.sh", command);
}
