using System.Net;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Events;

/// <summary>
/// The RabbitMQ transport against the private broker, read with amqplib (tests/brokers): a queue gets the types it is
/// bound for, in order, as CloudEvents; what no queue is bound for waits in the unrouted queue instead of being lost.
/// </summary>
public sealed class RabbitMqTransportTests : IAsyncDisposable
{
    private readonly string _exchange = "couponlive.events.test-" + Guid.NewGuid().ToString("N")[..12];
    private CouponLiveServer? _server;

    private static string Rabbit => Environment.GetEnvironmentVariable("COUPONLIVE_TEST_RABBITMQ") is { Length: > 0 } v
        ? v : throw new InvalidOperationException("COUPONLIVE_TEST_RABBITMQ is not set: run ./scripts/test.sh, which starts RabbitMQ.");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static Task<string> Consumer(params string[] args) =>
        Shell.RunAsync("node", [Path.Combine(TestServices.RepoRoot(), "tests", "brokers", "amqp-consumer.mjs"), .. args]);

    private static List<JsonObject> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())];

    [Fact]
    public async Task A_bound_queue_gets_its_types_in_order_and_the_rest_waits_in_the_unrouted_queue()
    {
        var coupons = _exchange + ".coupons";
        await Consumer("bind", Rabbit, _exchange, coupons, "couponlive.coupon.#");
        _server = CouponLiveServer.Start(settings: new()
        {
            ["Events:Transport"] = "rabbitmq",
            ["ConnectionStrings:RabbitMq"] = Rabbit,
            ["Events:Exchange"] = _exchange,
        });
        var id = (await _server.CreateCampaignAsync(3))["id"]!.GetValue<long>();
        var codes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var user = _server.NewClient(TestTokens.Mint($"mq-{i}", "user"));
            var issued = await user.PostAsync($"/api/v1/campaigns/{id}/issue", null, Ct);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            codes.Add((await issued.ReadJsonAsync())["code"]!.GetValue<string>());
        }

        var received = new List<JsonObject>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (received.Count < 3 && DateTime.UtcNow < deadline) received.AddRange(Lines(await Consumer("drain", Rabbit, coupons, "300")));
        Assert.Equal(codes, received.Select(m => JsonNode.Parse(m["body"]!.GetValue<string>())!["data"]!["code"]!.GetValue<string>()));
        Assert.All(received, m =>
        {
            Assert.Equal("couponlive.coupon.issued.v1", m["routingKey"]!.GetValue<string>());
            Assert.Equal("application/cloudevents+json", m["contentType"]!.GetValue<string>());
            var ce = JsonNode.Parse(m["body"]!.GetValue<string>())!;
            Assert.Equal(m["messageId"]!.GetValue<string>(), ce["id"]!.GetValue<string>());
            Assert.Equal("1.0", ce["specversion"]!.GetValue<string>());
        });

        // The campaign's creation matched no binding: kept, not dropped, and not holding up the coupons' events.
        var unrouted = Lines(await Consumer("drain", Rabbit, _exchange + ".unrouted", "300"));
        var created = Assert.Single(unrouted);
        Assert.Equal("couponlive.campaign.created.v1", created["routingKey"]!.GetValue<string>());
    }
}
