using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>Three processes behind nginx, one killed mid-sale: the crowd only knows the balancer's address.</summary>
[Collection(nameof(FaultDrills))]
public sealed class LoadBalancerDrills : SaleDrill
{
    [Fact]
    public async Task Killing_one_of_three_processes_behind_nginx_mid_sale_keeps_every_answer_right()
    {
        var servers = await StartServersAsync(3, new() { ["Reconciler__Delay"] = "00:00:01" });
        var nginx = Own(await LoadBalancer.StartAsync(servers));
        var campaignId = await CreateCampaignAsync(nginx.Address, 500);
        var driver = new SaleDriver([nginx.Address], campaignId, "nginx-kill");

        var sale = driver.RunAsync(users: 3_000, clicks: 2, concurrency: 300, budget: TimeSpan.FromSeconds(90));
        var fault = await WhenAsync(driver, 150, () => { servers[1].Kill(); return Task.CompletedTask; }, TimeSpan.FromSeconds(60));
        await sale;

        Assert.True(servers[1].HasExited);
        Assert.True(fault.Successes < driver.Successes, $"the kill must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        Assert.True(driver.Other == 0, $"{driver}\n{string.Join("\n", servers.Select(s => s.Output))}");
        await AssertOutcomeAsync(campaignId, driver);
        ReportRecovery("one of three processes behind nginx killed", driver, fault);
    }
}
