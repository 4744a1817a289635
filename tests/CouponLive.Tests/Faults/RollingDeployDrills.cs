using System.Diagnostics;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>
/// A rolling deploy mid-sale: three processes behind nginx, each stopped with SIGTERM in turn, waited for and started
/// again on its port. The crowd only knows the balancer's address and must see no 5xx and no transport error.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed class RollingDeployDrills : SaleDrill
{
    [Fact]
    public async Task Restarting_each_of_three_processes_behind_nginx_in_turn_mid_sale_fails_no_request()
    {
        const int quantity = 1500;
        var settings = new Dictionary<string, string> { ["Shutdown__DrainDelay"] = "00:00:01", ["Reconciler__Delay"] = "00:00:01" };
        var servers = (await StartServersAsync(3, settings)).ToArray();
        var nginx = Own(await LoadBalancer.StartAsync(servers));
        var campaignId = await CreateCampaignAsync(nginx.Address, quantity);
        var driver = new SaleDriver([nginx.Address], campaignId, "rolling");

        // About 50 clicks a second (20 at a time, each holding its place 400 ms): the sale outlasts three restarts.
        var sale = driver.RunAsync(users: 2_000, clicks: 1, concurrency: 20, budget: TimeSpan.FromSeconds(150), pause: TimeSpan.FromMilliseconds(400));
        await WhenAsync(driver, 100, () => Task.CompletedTask, TimeSpan.FromSeconds(60));
        var stops = new List<TimeSpan>();
        for (var i = 0; i < servers.Length; i++)
        {
            var old = servers[i];
            var stopping = Stopwatch.StartNew();
            await old.TerminateAsync();
            Assert.Equal(0, await old.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            stops.Add(stopping.Elapsed);
            servers[i] = Own(await ServerProcess.StartAsync(State, settings, port: old.BaseAddress.Port));
        }
        var successesAtLastRestart = driver.Successes;
        await sale;

        Assert.True(successesAtLastRestart < quantity, $"the last restart must land mid-sale: {successesAtLastRestart} successes then, {driver} at the end");
        Assert.True(driver.Unavailable == 0 && driver.BadGateway == 0 && driver.TransportErrors == 0 && driver.Other == 0,
            $"a rolling deploy must fail no request: {driver}\n{string.Join("\n", servers.Select(s => s.Output))}");
        await AssertOutcomeAsync(campaignId, driver);
        TestContext.Current.SendDiagnosticMessage(
            $"drill rolling deploy: the three stops took {string.Join(", ", stops.Select(s => $"{s.TotalSeconds:F1} s"))}; {driver}");
    }
}
