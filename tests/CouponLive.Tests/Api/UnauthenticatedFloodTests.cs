using System.Net;
using CouponLive.Tests.Infrastructure;
using StackExchange.Redis;

namespace CouponLive.Tests.Api;

/// <summary>
/// Issue requests anyone can send for free (no token, a forged or expired one, a made-up campaign id) leave
/// nothing behind: no Redis key, no live figures for an id nobody created. The campaign that exists still shows
/// the requests refused for their token in its live view. A production-mode server process of its own (REST,
/// Connect and gRPC), with the flood limits off so every refusal is the token's; the per-address limit on such
/// requests has its own tests (<see cref="IssueAuthFailureLimitTests"/>).
/// </summary>
public sealed class UnauthenticatedFloodTests : IAsyncLifetime
{
    private ServerProcess _server = null!;

    public async ValueTask InitializeAsync() =>
        _server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Production), new() { ["RateLimits__Enabled"] = "false" }, grpc: true);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _server.State.DropDatabaseAsync();
    }

    [Fact]
    public async Task A_flood_for_made_up_campaigns_creates_no_Redis_key_and_the_real_campaign_counts_its_rejected_tokens()
    {
        var id = await TestCampaigns.CreateAsync(_server.BaseAddress, 10);
        using (var buyer = IssueFlood.Client(_server.BaseAddress, TestTokens.Mint("early-buyer")))
            Assert.Equal(HttpStatusCode.Created, (await buyer.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode); // the gate's keys exist now

        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        var prefix = _server.State.RedisPrefix!;
        var before = await IssueFlood.KeysAsync(redis, prefix);
        Assert.NotEmpty(before);

        var random = new Random(20261201);
        var requests = Enumerable.Range(0, 3_000).Select(i => IssueFlood.Request.Of(i, random, id)).ToList();
        using var flood = new IssueFlood(_server);
        var answers = await flood.SendAsync(requests);

        Assert.All(answers, a => Assert.True(a.Refused == IssueFlood.Refusal.Unauthenticated, a.ToString()));
        var forReal = requests.Count(r => r.CampaignId == id);
        Assert.InRange(forReal, 300, 900); // a fifth of the flood names the real campaign

        // Signed-in users asking for campaigns that do not exist: 404, and nothing kept for those ids either.
        using (var someone = IssueFlood.Client(_server.BaseAddress, TestTokens.Mint("curious")))
        {
            foreach (var unknown in requests.Where(r => r.CampaignId != id).Take(200))
                await (await someone.PostAsync($"/api/v1/campaigns/{unknown.CampaignId}/issue", null)).AssertProblemAsync(HttpStatusCode.NotFound, "campaign.not_found");
        }

        // The live view publishes each second once it is over: once the real campaign's figures are there, so would be any other's.
        using var admin = IssueFlood.Client(_server.BaseAddress, TestTokens.Mint("operator", "admin"));
        var (totals, _) = await LiveStream.TotalsAsync(admin, id, atLeast: forReal + 1);
        Assert.Equal(forReal, totals["rejected_auth"]);
        Assert.Equal(1, totals["issued"]);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the last second of the 404s, published too

        var created = (await IssueFlood.KeysAsync(redis, prefix)).Except(before).ToList();
        var ofOthers = created.Where(k => !k.StartsWith($"{prefix}:{{live:{id}}}:", StringComparison.Ordinal)
                                          && !k.StartsWith($"{prefix}:{{c:{id}}}:", StringComparison.Ordinal)).ToList();
        Assert.True(ofOthers.Count == 0, $"{ofOthers.Count} keys created for made-up campaigns, e.g. {string.Join(", ", ofOthers.Take(5))}");
        TestContext.Current.SendDiagnosticMessage($"flood of {requests.Count} refused issue requests: {before.Count} keys of the prefix before, {before.Count + created.Count} after ({created.Count} new, all of campaign {id})");
    }
}
