using System.Net;
using System.Net.Http.Json;
using CouponLive.Tests.Infrastructure;
using StackExchange.Redis;
using static CouponLive.Tests.Infrastructure.IssueFlood;

namespace CouponLive.Tests.Api;

/// <summary>
/// Issue requests failing authentication count against their client address (REST, Connect and gRPC alike): past
/// the burst, that address's issue requests are refused 429 (RESOURCE_EXHAUSTED) with Retry-After before any
/// signature is checked, except those whose token was validated before. Only failures count, so people with valid
/// tokens are never limited by their own requests. The refills are set so slow (or waited for) that the counts are exact.
/// </summary>
public sealed class IssueAuthFailureLimitTests
{
    private const string Limit = "issue_auth_failures_per_address";

    [Fact]
    public async Task Past_the_burst_a_flood_gets_429_before_its_tokens_are_checked_and_a_validated_user_keeps_issuing()
    {
        const int burst = 40;
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        await using var server = await ServerProcess.StartAsync(state, new()
        {
            ["RateLimits__IssueAuthFailuresPerAddressBurst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__IssueAuthFailuresPerAddressPerSecond"] = "0.001", // one try back every 1,000 s: none during the test
        }, grpc: true);
        try
        {
            var id = await TestCampaigns.CreateAsync(server.BaseAddress, 10);
            // A regular user signs in before the flood: the token is validated once (and remembered).
            using var regular = Client(server.BaseAddress, TestTokens.Mint("regular-user"));
            Assert.Equal(HttpStatusCode.OK, (await regular.GetAsync("/api/v1/me/coupons")).StatusCode);

            await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
            var before = await KeysAsync(redis, state.RedisPrefix!);
            using var flood = new IssueFlood(server);
            var random = new Random(20261202);

            // The burst: one at a time, so each failure is charged before the next request is screened.
            var first = new List<Answer>();
            for (var i = 0; i < burst; i++) first.Add(await flood.SendAsync(Request.Of(i, random, id)));
            Assert.All(first, a => Assert.True(a.Refused == Refusal.Unauthenticated, a.ToString()));

            // The flood past it, 32 at a time, with the regular user issuing in the middle of it.
            var rest = Enumerable.Range(burst, 3_000).Select(i => Request.Of(i, random, id)).ToList();
            var flooding = flood.SendAsync(rest);
            var issued = await regular.PostAsync($"/api/v1/campaigns/{id}/issue", null);
            var again = await regular.PostAsync($"/api/v1/campaigns/{id}/issue", null);
            var answers = await flooding;

            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.All(answers, a =>
            {
                Assert.True(a.Refused == Refusal.RateLimited && a.Code == "auth.failures_rate_limited", a.ToString());
                Assert.True(a.RetryAfter >= TimeSpan.FromSeconds(1), $"no Retry-After (RetryInfo): {a}");
            });
            // One of them again, for its body: a ProblemDetails naming the address as the reason.
            var sample = answers.First(a => a.Request.Transport == Transport.Rest).Request;
            using (var problem = await SendRestAsync(server.BaseAddress, sample))
            {
                var body = await problem.AssertProblemAsync(HttpStatusCode.TooManyRequests, "auth.failures_rate_limited");
                Assert.Contains("address", body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            }

            // A valid token nobody presented before waits too (its signature is not checked); on every transport.
            var fresh = await Task.WhenAll(Enum.GetValues<Transport>().Select((t, i) =>
                flood.SendAsync(new Request(t, Credential.Valid, id, TestTokens.Mint($"newcomer-{i}")))));
            Assert.All(fresh, a => Assert.True(a.Refused == Refusal.RateLimited, a.ToString()));

            // Another address (as a loopback proxy names it) has a bucket of its own.
            using (var elsewhere = Client(server.BaseAddress, TestTokens.Mint("elsewhere")))
            using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue"))
            {
                request.Headers.Add("X-Forwarded-For", "198.51.100.23");
                Assert.Equal(HttpStatusCode.Created, (await elsewhere.SendAsync(request)).StatusCode);
            }

            var refused = answers.Length + 1 /* the one read again */ + fresh.Length;
            using var scraper = Client(server.BaseAddress, null);
            var metrics = await PrometheusText.ReadAsync(scraper);
            Assert.Equal(refused, metrics.Get("couponlive_rate_limited_total", ("limit", Limit)));
            // Only the burst's REST answers were authentication failures (the RPC transports do not count those); no refusal is one.
            var restFailures = first.Count(a => a.Request.Transport == Transport.Rest);
            Assert.Equal(restFailures, new[] { "auth.unauthorized", "auth.invalid_token", "auth.token_expired" }.Sum(r => metrics.Get("couponlive_auth_failures_total", ("reason", r))));

            // The live view of the real campaign: the burst's refusals for it as rejected tokens, the rest as rate limited.
            using var admin = Client(server.BaseAddress, TestTokens.Mint("operator", "admin"));
            var rejected = first.Count(a => a.Request.CampaignId == id);
            var limited = answers.Count(a => a.Request.CampaignId == id) + fresh.Length + (sample.CampaignId == id ? 1 : 0);
            var (totals, _) = await LiveStream.TotalsAsync(admin, id, atLeast: rejected + limited + 3);
            Assert.Equal(rejected, totals["rejected_auth"]);
            Assert.Equal(limited, totals["rate_limited"]);
            Assert.Equal(2, totals["issued"]); // the regular user and the one elsewhere
            Assert.Equal(1, totals["already_issued"]);

            // Nothing kept for the made-up campaigns.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var created = (await KeysAsync(redis, state.RedisPrefix!)).Except(before)
                .Where(k => !k.Contains($"{{live:{id}}}", StringComparison.Ordinal) && !k.Contains($"{{c:{id}}}", StringComparison.Ordinal)).ToList();
            Assert.True(created.Count == 0, $"{created.Count} keys for made-up campaigns, e.g. {string.Join(", ", created.Take(5))}");
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }

    [Fact]
    public async Task Once_a_try_refills_a_new_valid_token_works_and_a_validated_one_never_waited()
    {
        await using var server = CouponLiveServer.Start(settings: new()
        {
            ["RateLimits:IssueAuthFailuresPerAddressBurst"] = "3",
            ["RateLimits:IssueAuthFailuresPerAddressPerSecond"] = "0.5", // a try back every 2 s
        });
        var campaign = await server.CreateCampaignAsync(10);
        var path = $"/api/v1/campaigns/{campaign["id"]}/issue";
        using var known = server.NewClient(TestTokens.Mint("known-user"));
        Assert.Equal(HttpStatusCode.OK, (await known.GetAsync("/api/v1/me/coupons")).StatusCode);

        using var nobody = server.NewClient();
        for (var i = 0; i < 3; i++) await (await nobody.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthorized");
        using var newcomer = server.NewClient(TestTokens.Mint("newcomer"));
        var refused = await newcomer.PostAsync(path, null);
        await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, "auth.failures_rate_limited");
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.InRange(retryAfter ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Created, (await known.PostAsync(path, null)).StatusCode);

        // Retry-After is the time to the next whole try, rounded up: by then the newcomer's token is checked, and it is valid.
        await Task.Delay(retryAfter!.Value);
        Assert.Equal(HttpStatusCode.Created, (await newcomer.PostAsync(path, null)).StatusCode);
        // Its success cost nothing: the one try that came back is still there for a mistyped token.
        await (await nobody.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthorized");

        var metrics = await PrometheusText.ReadAsync(server.Client);
        Assert.Equal(1, metrics.Get("couponlive_rate_limited_total", ("limit", Limit)));
        Assert.Equal(4, metrics.Get("couponlive_auth_failures_total", ("reason", "auth.unauthorized")));
    }

    private static async Task<HttpResponseMessage> SendRestAsync(Uri baseAddress, Request r)
    {
        using var client = Client(baseAddress, r.Token);
        return await client.PostAsJsonAsync<object?>($"/api/v1/campaigns/{r.CampaignId}/issue", null);
    }
}
