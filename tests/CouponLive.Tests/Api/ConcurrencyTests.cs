using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Diagnostics.Metrics;
using CouponLive.Codes;
using CouponLive.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using CouponLive.Issuance.Redis;
using Microsoft.Extensions.DependencyInjection;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>The stampede: many users, each clicking twice, all at once, for far fewer coupons.</summary>
public abstract class ConcurrencyTests(ServerFixture fixture)
{
    protected CouponLiveServer Server => fixture.Server;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Thousand_users_clicking_twice_get_exactly_a_hundred_coupons(int run)
    {
        const int quantity = 100, users = 1_000, clicks = 2;
        var campaign = await Server.CreateCampaignAsync(quantity);
        var id = campaign["id"]!.GetValue<long>();
        var tokens = Enumerable.Range(0, users).Select(u => TestTokens.Mint($"run{run}-user{u}")).ToArray();

        // This server's own gate calls (other servers run in the same test process).
        using var gateBatches = new MetricCollector<int>(Server.Services.GetRequiredService<IMeterFactory>(), CouponMetrics.MeterName, "couponlive.gate.batch.size");
        using var client = Server.NewClient(maxConnections: 256);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answers = new ConcurrentBag<(int User, HttpStatusCode Status, JsonObject Body)>();
        var requests = Enumerable.Range(0, users * clicks).Select(async i =>
        {
            var user = i % users;
            await start.Task;
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[user]);
            using var response = await client.SendAsync(request);
            answers.Add((user, response.StatusCode, await response.ReadJsonAsync()));
        }).ToArray();
        start.SetResult();
        await Task.WhenAll(requests);

        Assert.Equal(users * clicks, answers.Count);
        if (Server.Mode == ServerMode.Production)
        {
            // The writer trims the outbox entries of what it committed: the newest admissions are under
            // a second old, far younger than the reconciler's delay, so an empty outbox is the writer's work.
            var outboxLength = await OutboxLengthAsync(id);
            for (var i = 0; i < 20 && outboxLength > 0; i++)
            {
                await Task.Delay(50);
                outboxLength = await OutboxLengthAsync(id);
            }
            Assert.Equal(0, outboxLength);

            // Concurrent requests for one campaign share script calls (docs/architecture.md, the admission script).
            var batches = gateBatches.GetMeasurementSnapshot();
            var (calls, decisions) = (batches.Count, batches.Sum(m => m.Value));
            Assert.True(calls < decisions, $"expected coalescing: {calls} script calls for {decisions} decisions");
        }
        var unexpected = answers.Where(a => a.Status is not (HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Conflict)).ToList();
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected.Take(5).Select(a => $"{a.Status} {a.Body.ToJsonString()}")));
        Assert.All(answers.Where(a => a.Status == HttpStatusCode.Conflict), a => Assert.Equal("campaign.sold_out", a.Body["code"]!.GetValue<string>()));

        // Each user's answers agree: both the same coupon, or both sold out.
        var winners = new Dictionary<int, string>();
        foreach (var group in answers.GroupBy(a => a.User))
        {
            var codes = group.Select(a => a.Status == HttpStatusCode.Conflict ? null : a.Body["code"]!.GetValue<string>()).Distinct().ToList();
            Assert.Single(codes);
            if (codes[0] is { } code)
            {
                winners[group.Key] = code;
                Assert.Single(group, a => a.Status == HttpStatusCode.Created);
            }
        }
        Assert.Equal(quantity, winners.Count);
        Assert.Equal(quantity, winners.Values.Distinct().Count());
        Assert.All(winners.Values, code => Assert.True(CouponCodeCodec.HasValidCheck(code)));

        // The database agrees with every answer (I1-I4, I6) and holds each promised code.
        var report = await Server.CheckAsync(campaign);
        Assert.Empty(report.Violations());
        Assert.True(report.SoldExactly, report.ToString());
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var stored = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/coupons?limit=10000")).ReadJsonAsync())["items"]!.AsArray()
            .ToDictionary(n => n!["userId"]!.GetValue<string>(), n => n!["code"]!.GetValue<string>());
        Assert.Equal(quantity, stored.Count);
        foreach (var (user, code) in winners) Assert.Equal(code, stored[$"run{run}-user{user}"]);

        var read = await (await admin.GetAsync($"/api/v1/campaigns/{id}")).ReadJsonAsync();
        Assert.Equal(quantity, read["issuedCount"]!.GetValue<int>());
        Assert.Equal("sold_out", read["status"]!.GetValue<string>());
    }

    private async Task<long> OutboxLengthAsync(long campaignId)
    {
        var redis = Server.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        var key = Server.Services.GetRequiredService<RedisKeys>().Campaign(campaignId, "outbox");
        return await redis.GetDatabase().StreamLengthAsync(key);
    }
}

public sealed class EmbeddedConcurrencyTests(EmbeddedServerFixture fixture) : ConcurrencyTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionConcurrencyTests(ProductionServerFixture fixture) : ConcurrencyTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlConcurrencyTests(ProductionMySqlServerFixture fixture) : ConcurrencyTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
