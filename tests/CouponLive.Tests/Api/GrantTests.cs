using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// Bulk grants, both modes: the same rules as the race (one per user, the stock; windows ignored), every count,
/// per-user results, idempotency per grant id, validation, a grant racing a crowd for the last coupons, and
/// 100,000 users in one request.
/// </summary>
public abstract class GrantTests(ServerFixture fixture)
{
    private CouponLiveServer Server => fixture.Server;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<HttpClient> AdminAsync() => Server.NewClient(await Server.AdminTokenAsync());

    /// <summary>Polls the grant until it is done (bounded); its last state.</summary>
    private static async Task<JsonObject> DoneAsync(HttpClient admin, long campaignId, string grantId, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var grant = await (await admin.GetAsync($"/api/v1/campaigns/{campaignId}/grants/{Uri.EscapeDataString(grantId)}?limit=1")).ReadJsonAsync();
            if (grant["status"]!.GetValue<string>() == "done") return grant;
            Assert.True(DateTime.UtcNow < deadline, $"grant not done in time: {grant}");
            await Task.Delay(50);
        }
    }

    private static int Count(JsonObject grant, string field) => grant[field]!.GetValue<int>();

    [Fact]
    public async Task A_grant_follows_the_race_rules_counts_every_user_and_is_idempotent_per_grant_id()
    {
        // Windows are ignored for grants: this campaign's only window opens tomorrow.
        var now = DateTimeOffset.UtcNow;
        var campaign = await Server.CreateCampaignAsync(0, new
        {
            name = Unique("grant"),
            totalQuantity = 40,
            windows = new[] { new { startsAt = now.AddDays(1).ToString("O"), endsAt = now.AddDays(2).ToString("O") } },
        });
        var id = campaign["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        var first = await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "g1", userIds = new[] { "early-1", "early-2", "early-3", "early-4", "early-5" } });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("running", (await first.ReadJsonAsync())["status"]!.GetValue<string>());
        Assert.Equal(5, Count(await DoneAsync(admin, id, "g1"), "issued"));

        // 60 ids: the 5 holders, 52 new users, one listed twice, an empty one and one with a control character.
        var users = new List<string?> { "early-1", "early-2", "early-3", "early-4", "early-5" };
        users.AddRange(Enumerable.Range(0, 52).Select(i => $"bulk-{i}"));
        users.AddRange(["bulk-0", "", "bad\u0001id"]);
        var posted = await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "g2 spring", userIds = users });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var done = await DoneAsync(admin, id, "g2 spring");
        Assert.Equal(60, Count(done, "requested"));
        Assert.Equal(35, Count(done, "issued"));      // the stock left: 40 - 5
        Assert.Equal(5, Count(done, "alreadyHeld"));
        Assert.Equal(17, Count(done, "soldOut"));
        Assert.Equal(3, Count(done, "invalid"));
        Assert.NotNull(done["doneAt"]);

        // Per-user results in request order, paged; issued users hold real coupons.
        var results = new List<JsonNode>();
        var url = $"/api/v1/campaigns/{id}/grants/g2%20spring?limit=25";
        while (true)
        {
            var page = await (await admin.GetAsync(url)).ReadJsonAsync();
            results.AddRange(page["results"]!.AsArray().Select(n => n!));
            if (page["next"] is null) break;
            url = $"/api/v1/campaigns/{id}/grants/g2%20spring?limit=25&after={page["next"]}";
        }
        Assert.Equal(Enumerable.Range(0, 60), results.Select(r => r["position"]!.GetValue<int>()));
        Assert.Equal("already_held", results[0]["outcome"]!.GetValue<string>());
        Assert.Equal("invalid", results[57]["outcome"]!.GetValue<string>()); // bulk-0 again
        var issued = results.Where(r => r["outcome"]!.GetValue<string>() == "issued").ToList();
        Assert.Equal(35, issued.Count);
        foreach (var r in issued.Take(5))
        {
            var coupon = await (await admin.GetAsync("/api/v1/coupons/" + Uri.EscapeDataString(r["code"]!.GetValue<string>()))).ReadJsonAsync();
            Assert.Equal(r["userId"]!.GetValue<string>(), coupon["userId"]!.GetValue<string>());
        }
        var read = await (await admin.GetAsync($"/api/v1/campaigns/{id}")).ReadJsonAsync();
        Assert.Equal(40, read["issuedCount"]!.GetValue<int>());
        var report = await Server.CheckAsync(campaign);
        Assert.True(report.Violations().Count == 0 && report.SoldExactly, report.ToString());

        // The same grant id again: the same grant, nothing changes (even with other users).
        var again = await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "g2 spring", userIds = new[] { "someone-else" } });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var same = await again.ReadJsonAsync();
        foreach (var field in new[] { "requested", "issued", "alreadyHeld", "soldOut", "invalid", "status", "createdAt", "doneAt" })
            Assert.Equal(done[field]!.ToJsonString(), same[field]!.ToJsonString());
        var list = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(["g2 spring", "g1"], list.Select(g => g!["grantId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_grant_waits_while_its_campaign_is_paused_and_a_cancelled_campaign_takes_no_grant()
    {
        var id = (await Server.CreateCampaignAsync(10))["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "held", userIds = new[] { "p-1", "p-2" } })).StatusCode);
        await Task.Delay(1_500); // three of the runner's polls
        var waiting = await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/held")).ReadJsonAsync();
        Assert.Equal("running", waiting["status"]!.GetValue<string>());
        Assert.Equal(0, Count(waiting, "issued"));

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/resume", null)).StatusCode);
        Assert.Equal(2, Count(await DoneAsync(admin, id, "held"), "issued"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/cancel", null)).StatusCode);
        await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "late", userIds = new[] { "p-3" } }))
            .AssertProblemAsync(HttpStatusCode.Conflict, "campaign.cancelled");
    }

    [Fact]
    public async Task A_grant_racing_a_crowd_for_the_last_coupons_issues_exactly_the_quantity()
    {
        var campaign = await Server.CreateCampaignAsync(300);
        var id = campaign["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using var crowd = Server.NewClient(maxConnections: 64);
        var crowdWins = 0;
        var race = Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue");
                request.Headers.Authorization = new("Bearer", TestTokens.Mint($"crowd-{w}-{i}"));
                using var response = await crowd.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Created) Interlocked.Increment(ref crowdWins);
            }
        })));
        // The grant joins a sale in progress, so both sides win some of the last coupons.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref crowdWins) < 50 && DateTime.UtcNow < deadline) await Task.Delay(2);
        var grantUsers = Enumerable.Range(0, 300).Select(i => $"granted-{i}").ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "race", userIds = grantUsers })).StatusCode);
        await race;
        var done = await DoneAsync(admin, id, "race");

        Assert.Equal(300, Count(done, "issued") + crowdWins);
        Assert.Equal(300, Count(done, "issued") + Count(done, "soldOut"));
        var report = await Server.CheckAsync(campaign);
        Assert.True(report.Violations().Count == 0 && report.SoldExactly, $"{report}; crowd {crowdWins}, grant {done}");
        TestContext.Current.SendDiagnosticMessage($"grant racing a crowd: grant {Count(done, "issued")}, crowd {crowdWins} of 300");
    }

    [Fact]
    public async Task One_hundred_thousand_users_in_one_request_and_bad_grants_are_refused_clearly()
    {
        var id = (await Server.CreateCampaignAsync(10))["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        var big = Enumerable.Range(0, 100_000).Select(i => $"many-{i:D6}").ToArray();
        var posted = await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "big", userIds = big });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        var done = await DoneAsync(admin, id, "big", TimeSpan.FromSeconds(120));
        Assert.Equal(10, Count(done, "issued"));
        Assert.Equal(99_990, Count(done, "soldOut"));

        await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "x", userIds = big.Append("one-more") }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "grant.invalid_users");
        await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "x", userIds = Array.Empty<string>() }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "grant.invalid_users");
        await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { userIds = new[] { "a" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "grant.invalid_id");
        await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = new string('g', 101), userIds = new[] { "a" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "grant.invalid_id");
        await (await admin.PostAsJsonAsync("/api/v1/campaigns/999999/grants", new { grantId = "x", userIds = new[] { "a" } }))
            .AssertProblemAsync(HttpStatusCode.NotFound, "campaign.not_found");
        await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/nope")).AssertProblemAsync(HttpStatusCode.NotFound, "grant.not_found");
        await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/big?limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_paging");
        using var user = Server.NewClient(TestTokens.Mint(Unique("user")));
        await (await user.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "x", userIds = new[] { "a" } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
    }
}

public sealed class EmbeddedGrantTests(EmbeddedServerFixture fixture) : GrantTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionGrantTests(ProductionServerFixture fixture) : GrantTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlGrantTests(ProductionMySqlServerFixture fixture) : GrantTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
