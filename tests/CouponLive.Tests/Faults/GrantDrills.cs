using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>A bulk grant whose process is killed mid-grant: another process resumes it, and nothing is issued twice or lost.</summary>
[Collection(nameof(FaultDrills))]
public sealed class GrantDrills : SaleDrill
{
    [Fact]
    public async Task A_grant_interrupted_by_a_killed_process_is_resumed_by_another_exactly()
    {
        // Small chunks and a short lease, so the kill lands mid-grant and the takeover is quick.
        var settings = new Dictionary<string, string> { ["Grants__ChunkSize"] = "50", ["Grants__LeaseTime"] = "00:00:02" };
        var first = (await StartServersAsync(1, settings))[0];
        var campaignId = await CreateCampaignAsync(first.BaseAddress, 5_000);
        using var admin = new HttpClient { BaseAddress = first.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        var users = Enumerable.Range(0, 4_000).Select(i => $"granted-{i}").ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{campaignId}/grants", new { grantId = "resume", userIds = users })).StatusCode);

        JsonObject progress;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do progress = await (await admin.GetAsync($"/api/v1/campaigns/{campaignId}/grants/resume?limit=1")).ReadJsonAsync();
        while (progress["issued"]!.GetValue<int>() < 200 && DateTime.UtcNow < deadline);
        first.Kill();
        var issuedAtKill = progress["issued"]!.GetValue<int>();
        Assert.True(issuedAtKill is >= 200 and < 4_000, $"the kill must land mid-grant: {progress}");

        var second = (await StartServersAsync(1, settings))[0];
        using var admin2 = new HttpClient { BaseAddress = second.BaseAddress };
        admin2.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(100);
            progress = await (await admin2.GetAsync($"/api/v1/campaigns/{campaignId}/grants/resume?limit=1")).ReadJsonAsync();
        }
        while (progress["status"]!.GetValue<string>() != "done" && DateTime.UtcNow < deadline);

        // Every user got exactly one coupon, counted as issued by this grant (none mistaken for "already held").
        Assert.Equal("done", progress["status"]!.GetValue<string>());
        Assert.Equal(4_000, progress["issued"]!.GetValue<int>());
        Assert.Equal(0, progress["alreadyHeld"]!.GetValue<int>() + progress["soldOut"]!.GetValue<int>() + progress["invalid"]!.GetValue<int>());
        await using var store = PostgresCouponStore.Open(State.Postgres!);
        var report = await store.CheckInvariantsAsync(campaignId, default);
        Assert.True(report.Violations().Count == 0, report.ToString());
        Assert.Equal(4_000, report.Rows);
        var coupons = await store.ListCouponsAsync(campaignId, 0, 10_000, CouponFilter.All, default);
        Assert.Equal(users.Order(StringComparer.Ordinal), coupons.Select(c => c.UserId).Order(StringComparer.Ordinal));
        Assert.All(coupons, c => Assert.True(c.Source.IsGrant, $"{c.UserId}'s coupon should carry its grant"));
        Assert.Contains("(resume) done", second.Output, StringComparison.Ordinal); // the second process finished it
        TestContext.Current.SendDiagnosticMessage($"drill grant resumed: {issuedAtKill} issued when its process was killed, 4000 after another resumed it");
    }
}
