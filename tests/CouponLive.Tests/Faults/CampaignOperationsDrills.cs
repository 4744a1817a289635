using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Issuance;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>
/// An operator changing a campaign in the middle of a sale served by three production-mode processes: the change
/// is exact across processes (the gate decides), checked from the database afterwards with I1-I6.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed class CampaignOperationsDrills : SaleDrill
{
    private static HttpClient Operator(Uri server)
    {
        var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        return client;
    }

    private async Task<List<IssuedCoupon>> CouponsAsync(long campaignId)
    {
        await using var store = PostgresCouponStore.Open(State.Postgres!);
        return [.. await store.ListCouponsAsync(campaignId, 0, 100_000, CouponFilter.All, default)];
    }

    /// <summary>
    /// Waits until every process shows the campaign with <paramref name="expected"/> true. Bounded generously (30 s):
    /// what is checked is that every process's catalog follows; how soon (within a second on an idle machine, the
    /// catalog polls every half second) is printed, not asserted, since a busy machine stretches it.
    /// </summary>
    private static async Task AssertEveryProcessShowsAsync(IReadOnlyList<ServerProcess> servers, long campaignId, Func<JsonObject, bool> expected, string what)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var server in servers)
        {
            using var client = Operator(server.BaseAddress);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            JsonObject campaign;
            do
            {
                campaign = await (await client.GetAsync($"/api/v1/campaigns/{campaignId}")).ReadJsonAsync();
                if (expected(campaign)) break;
                await Task.Delay(50);
            }
            while (DateTime.UtcNow < deadline);
            Assert.True(expected(campaign), $"{server.BaseAddress} does not show {what} after 30 s: {campaign}");
        }
        TestContext.Current.SendDiagnosticMessage(
            $"every process showed {what} {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:F2} s after the change was answered");
    }

    [Fact]
    public async Task Pausing_mid_sale_stops_every_process_at_once_and_resuming_sells_out_exactly()
    {
        var servers = await StartServersAsync(3);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 500);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "pause");
        using var op = Operator(servers[1].BaseAddress);

        var sale = driver.RunAsync(users: 3_000, clicks: 1, concurrency: 150, budget: TimeSpan.FromSeconds(90));
        JsonObject paused = null!;
        var fault = await WhenAsync(driver, 150, async () => paused = await (await op.PostAsync($"/api/v1/campaigns/{campaignId}/pause", null)).ReadJsonAsync(),
            TimeSpan.FromSeconds(60));
        var pausedAt = paused["pausedAt"]!.GetValue<DateTimeOffset>();

        // While paused: a newcomer is refused by every process, a holder still gets the coupon back.
        await AssertEveryProcessShowsAsync(servers, campaignId, c => c["status"]!.GetValue<string>() == "paused", "the pause");
        var holder = driver.CodesByUser.First();
        foreach (var server in servers)
        {
            using var newcomer = new HttpClient { BaseAddress = server.BaseAddress };
            newcomer.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("newcomer-" + Guid.NewGuid().ToString("N")[..8]));
            await (await newcomer.PostAsync($"/api/v1/campaigns/{campaignId}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.paused");
            using var again = new HttpClient { BaseAddress = server.BaseAddress };
            again.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint(holder.Key));
            var back = await (await again.PostAsync($"/api/v1/campaigns/{campaignId}/issue", null)).ReadJsonAsync();
            Assert.Equal(holder.Value.Single(), back["code"]!.GetValue<string>());
        }
        await Task.Delay(500);
        var resumeSent = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{campaignId}/resume", null)).StatusCode);
        await sale;

        Assert.True(fault.Successes < driver.Successes, $"the pause must land mid-sale: {fault.Successes} then, {driver} at the end");
        Assert.True(driver.Paused > 0, $"requests during the pause must have been refused as paused: {driver}");
        await AssertOutcomeAsync(campaignId, driver);
        var duringPause = (await CouponsAsync(campaignId)).Where(c => c.IssuedAt > pausedAt && c.IssuedAt < resumeSent).ToList();
        Assert.True(duringPause.Count == 0, $"{duringPause.Count} coupons admitted after pausedAt {pausedAt:O}, first at {duringPause.FirstOrDefault()?.IssuedAt:O}");
        TestContext.Current.SendDiagnosticMessage($"drill pause: paused at {pausedAt:O} after {fault.Successes} successes; {driver}");
    }

    [Fact]
    public async Task Raising_the_quantity_mid_sale_issues_exactly_the_new_quantity_and_lowering_below_issued_is_refused()
    {
        var servers = await StartServersAsync(3);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 300);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "raise");
        using var op = Operator(servers[2].BaseAddress);
        var read = await op.GetAsync($"/api/v1/campaigns/{campaignId}");
        var etag = read.Headers.ETag!.Tag;

        var sale = driver.RunAsync(users: 2_000, clicks: 1, concurrency: 150, budget: TimeSpan.FromSeconds(90));
        HttpResponseMessage raised = null!;
        var fault = await WhenAsync(driver, 100, async () => raised = await op.PatchCampaignAsync(campaignId, """{"totalQuantity": 500}""", etag), TimeSpan.FromSeconds(60));
        await sale;

        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.True(fault.Successes < 300, $"the raise must land before the first 300 sold out: {fault.Successes} successes then");
        var report = await AssertOutcomeAsync(campaignId, driver);
        Assert.Equal(500, report.TotalQuantity);
        Assert.Equal(500, driver.CodesByUser.Count);
        await AssertEveryProcessShowsAsync(servers, campaignId, c => c["totalQuantity"]!.GetValue<int>() == 500, "the new quantity");

        await (await op.PatchCampaignAsync(campaignId, """{"totalQuantity": 499}""")).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.quantity_below_issued");
        await (await op.PatchCampaignAsync(campaignId, """{"totalQuantity": 600}""", etag)).AssertProblemAsync(HttpStatusCode.PreconditionFailed, "campaign.changed");
        var after = await (await op.GetAsync($"/api/v1/campaigns/{campaignId}")).ReadJsonAsync();
        Assert.Equal(500, after["totalQuantity"]!.GetValue<int>());
        TestContext.Current.SendDiagnosticMessage($"drill raise 300 -> 500 after {fault.Successes} successes; {driver}");
    }

    [Fact]
    public async Task Ending_the_open_window_mid_sale_stops_issuing_until_the_next_window_opens()
    {
        var servers = await StartServersAsync(3);
        var now = DateTimeOffset.UtcNow;
        using var op = Operator(servers[0].BaseAddress);
        var created = await op.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "rounds-" + Guid.NewGuid().ToString("N"),
            totalQuantity = 400,
            windows = new object[]
            {
                new { startsAt = CampaignRequests.Iso(now.AddSeconds(-1)), endsAt = CampaignRequests.Iso(now.AddMinutes(10)) },
                new { startsAt = CampaignRequests.Iso(now.AddMinutes(20)), endsAt = CampaignRequests.Iso(now.AddMinutes(30)) },
            },
        });
        var campaignId = (await created.ReadJsonAsync())["id"]!.GetValue<long>();
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "round");

        var sale = driver.RunAsync(users: 2_000, clicks: 1, concurrency: 60, budget: TimeSpan.FromSeconds(90), pause: TimeSpan.FromMilliseconds(20));
        JsonObject ended = null!;
        using var other = Operator(servers[1].BaseAddress);
        await WhenAsync(driver, 100, async () => ended = await (await other.PostAsync($"/api/v1/campaigns/{campaignId}/windows/current/end", null)).ReadJsonAsync(),
            TimeSpan.FromSeconds(60));
        var endsAt = ended["windows"]![0]!["endsAt"]!.GetValue<DateTimeOffset>();
        var start = ended["windows"]![0]!["startsAt"]!.GetValue<string>();

        await Task.Delay(300);
        // Far enough out that the PATCH (a change across three busy processes) lands before the round it moves opens.
        var opens = DateTimeOffset.UtcNow.AddSeconds(3);
        var moved = await op.PatchCampaignAsync(campaignId, $$"""
            {"windows": [{"startsAt": "{{start}}", "endsAt": "{{CampaignRequests.Iso(endsAt)}}"}, {"startsAt": "{{CampaignRequests.Iso(opens)}}", "endsAt": "{{CampaignRequests.Iso(opens.AddMinutes(5))}}"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        await sale;

        // The first crowd has gone (turned away between the rounds); a second one comes for the next round.
        var late = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "round2");
        var untilOpen = opens - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50);
        if (untilOpen > TimeSpan.Zero) await Task.Delay(untilOpen); // the first crowd may take longer than that on a busy machine
        await late.RunAsync(users: 1_000, clicks: 1, concurrency: 100, budget: TimeSpan.FromSeconds(60));
        await AssertOutcomeAsync(campaignId, driver, expectSoldOut: false);
        await AssertOutcomeAsync(campaignId, late);
        var coupons = await CouponsAsync(campaignId);
        var between = coupons.Where(c => c.IssuedAt >= endsAt && c.IssuedAt < opens).ToList();
        Assert.True(between.Count == 0, $"{between.Count} coupons issued between the window's end {endsAt:O} and the next opening {opens:O}");
        Assert.Contains(coupons, c => c.IssuedAt >= opens && c.Source == CouponSource.Window(1));
        Assert.True(driver.Conflicts.GetValueOrDefault("campaign.not_open") > 0, $"clicks between the rounds must hear not_open: {driver}");
        TestContext.Current.SendDiagnosticMessage(
            $"drill end window: ended at {endsAt:O}; {coupons.Count(c => c.Source == CouponSource.Window(0))} in round 1, {coupons.Count(c => c.Source == CouponSource.Window(1))} in round 2; {driver}; then {late}");
    }


}
