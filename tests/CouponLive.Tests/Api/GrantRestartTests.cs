using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>A grant interrupted by a restart of its (only) server resumes on the next start, in both modes.</summary>
public abstract class GrantRestartTests(ServerMode mode)
{
    [Fact]
    public async Task A_grant_interrupted_by_a_restart_resumes_and_finishes_exactly()
    {
        var state = await CouponLiveServer.NewStateAsync(mode);
        var settings = new Dictionary<string, string?> { ["Grants:ChunkSize"] = "20", ["Grants:LeaseTime"] = "00:00:02" };
        var users = Enumerable.Range(0, 3_000).Select(i => $"restart-{i}").ToArray();
        long id;
        int issuedAtStop;
        await using (var first = CouponLiveServer.Start(state, settings: settings))
        {
            id = (await first.CreateCampaignAsync(2_500))["id"]!.GetValue<long>();
            using var admin = first.NewClient(await first.AdminTokenAsync());
            Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "r", userIds = users })).StatusCode);
            JsonObject progress;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            do progress = await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/r?limit=1")).ReadJsonAsync();
            while (progress["issued"]!.GetValue<int>() < 100 && DateTime.UtcNow < deadline);
            issuedAtStop = progress["issued"]!.GetValue<int>();
        }
        Assert.True(issuedAtStop < 2_500, "the restart must land mid-grant");

        await using var second = CouponLiveServer.Start(state, settings: settings);
        using var admin2 = second.NewClient(await second.AdminTokenAsync());
        JsonObject done;
        var until = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(100);
            done = await (await admin2.GetAsync($"/api/v1/campaigns/{id}/grants/r?limit=1")).ReadJsonAsync();
        }
        while (done["status"]!.GetValue<string>() != "done" && DateTime.UtcNow < until);
        Assert.Equal("done", done["status"]!.GetValue<string>());
        Assert.Equal(2_500, done["issued"]!.GetValue<int>());
        Assert.Equal(500, done["soldOut"]!.GetValue<int>());
        Assert.Equal(0, done["alreadyHeld"]!.GetValue<int>());
        var report = await second.CheckAsync(new JsonObject { ["id"] = id });
        Assert.True(report.Violations().Count == 0 && report.SoldExactly, report.ToString());
        await state.DropDatabaseAsync();
    }
}

public sealed class EmbeddedGrantRestartTests() : GrantRestartTests(ServerMode.Embedded);

public sealed class ProductionGrantRestartTests() : GrantRestartTests(ServerMode.Production);

public sealed class MySqlGrantRestartTests() : GrantRestartTests(ServerMode.ProductionMySql);
