using System.Globalization;
using System.Net;
using CouponLive.Issuance.Redis;
using CouponLive.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CouponLive.Tests.Api;

/// <summary>
/// How the gate's keys are laid out in Redis: one slot per campaign on a Redis Cluster, and a lifetime
/// tied to the campaign's end. The failover drills (Faults/) cover what happens when nodes die.
/// </summary>
public sealed class RedisTopologyTests
{
    [Fact]
    public async Task On_a_cluster_campaigns_spread_over_every_primary_and_each_sells_exactly()
    {
        await using var cluster = await RedisTopology.StartClusterAsync(primaries: 3, replicasPerPrimary: 0);
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Production) with { Redis = cluster.ConnectionString };
        await using var server = CouponLiveServer.Start(state);
        try
        {
            // Campaign ids are 1..24 in a fresh database, so the slots are the same every run.
            var campaigns = new List<long>();
            for (var i = 0; i < 24; i++) campaigns.Add((await server.CreateCampaignAsync(5))["id"]!.GetValue<long>());
            await Task.WhenAll(campaigns.Select(id => RaceAsync(server, id, users: 20)));

            var owners = new HashSet<int>();
            foreach (var id in campaigns)
            {
                var report = await server.CheckAsync(new() { ["id"] = id });
                Assert.True(report.SoldExactly && report.Violations().Count == 0, report.ToString());
                // All of a campaign's gate keys sit on the primary that owns its slot.
                var owner = await cluster.PrimaryOfKeyAsync($"{state.RedisPrefix}:{{c:{id}}}:meta");
                foreach (var part in new[] { "meta", "holders", "windows", "wcount", "outbox" })
                    Assert.Equal("1", await RedisTopology.CliAsync(owner, "exists", $"{state.RedisPrefix}:{{c:{id}}}:{part}"));
                owners.Add(owner);
            }
            Assert.Equal(3, owners.Count);
        }
        finally
        {
            await TestServices.DropDatabaseAsync(state.Postgres!);
        }
    }

    [Fact]
    public async Task A_campaigns_keys_expire_after_its_last_window_and_are_rebuilt_if_asked_again()
    {
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        await using var server = CouponLiveServer.Start(state, settings: new() { ["Redis:KeyTtlAfterEnd"] = "00:00:02" });
        try
        {
            // The window ends 4 s out: creating the campaign and the first issue must fit in it on a busy machine.
            var ends = DateTimeOffset.UtcNow.AddSeconds(4);
            var campaign = await server.CreateWindowCampaignAsync(3, DateTimeOffset.UtcNow.AddSeconds(-1), ends);
            var id = campaign["id"]!.GetValue<long>();
            using var alice = server.NewClient(TestTokens.Mint("alice-ttl"));
            var issued = await alice.PostAsync($"/api/v1/campaigns/{id}/issue", null);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            var code = (await issued.ReadJsonAsync())["code"]!.GetValue<string>();

            // Each key's expiry as Redis holds it (PEXPIRETIME, absolute): exactly 2 s after the window's end, however
            // long the calls in between took.
            var db = server.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
            var keys = server.Services.GetRequiredService<RedisKeys>().Gate(id);
            var expiry = ends.AddSeconds(2);
            foreach (var key in keys)
            {
                var expiresAt = (long)await db.ExecuteAsync("PEXPIRETIME", key);
                Assert.True(expiresAt > 0, $"{key} never expires ({expiresAt})");
                Assert.True(Math.Abs(expiresAt - expiry.ToUnixTimeMilliseconds()) <= 1,
                    $"{key} expires at {DateTimeOffset.FromUnixTimeMilliseconds(expiresAt):O}, not {expiry:O}");
            }

            await Task.Delay(expiry - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300));
            foreach (var key in keys) Assert.False(await db.KeyExistsAsync(key), $"{key} outlived the campaign");

            // Asked again, the holder gets the same coupon (this process saw it committed) and anyone else hears it
            // ended, from the gate rebuilt from the store.
            var again = await alice.PostAsync($"/api/v1/campaigns/{id}/issue", null);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(code, (await again.ReadJsonAsync())["code"]!.GetValue<string>());
            using var bob = server.NewClient(TestTokens.Mint("bob-ttl"));
            var rebuiltFrom = DateTimeOffset.UtcNow;
            await (await bob.PostAsync($"/api/v1/campaigns/{id}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.ended");
            var rebuiltBy = DateTimeOffset.UtcNow;
            // A rebuilt campaign's keys live the configured time from the rebuild (its window is over).
            var rebuilt = (long)await db.ExecuteAsync("PEXPIRETIME", keys[0]);
            Assert.True(rebuilt >= rebuiltFrom.AddSeconds(2).ToUnixTimeMilliseconds() - 1 && rebuilt <= rebuiltBy.AddSeconds(2).ToUnixTimeMilliseconds() + 1,
                $"a rebuilt campaign's keys live the configured time from the rebuild ({rebuiltFrom:O}..{rebuiltBy:O}), not until {(rebuilt > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(rebuilt).ToString("O") : rebuilt.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        }
        finally
        {
            await TestServices.DropDatabaseAsync(state.Postgres!);
        }
    }

    private static async Task RaceAsync(CouponLiveServer server, long campaignId, int users)
    {
        var clients = Enumerable.Range(0, users).Select(u => server.NewClient(TestTokens.Mint($"spread-{campaignId}-{u}"), maxConnections: 2)).ToList();
        try
        {
            var answers = await Task.WhenAll(clients.SelectMany(c => new[] { c, c })
                .Select(c => c.PostAsync(string.Create(CultureInfo.InvariantCulture, $"/api/v1/campaigns/{campaignId}/issue"), null)));
            Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Conflict, a.StatusCode.ToString()));
            Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
