using System.Collections.Concurrent;
using System.Text;
using CouponLive.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CouponLive.Tests.Api;

/// <summary>With Otlp:Endpoint set, the CouponLive meter reaches an OTLP/HTTP collector (a stand-in on loopback).</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Metrics_are_pushed_to_the_configured_collector()
    {
        var received = new ConcurrentQueue<byte[]>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();
        var endpoint = collector.Urls.First() + "/v1/metrics";

        await using var server = CouponLiveServer.Start(settings: new()
        {
            ["Otlp:Endpoint"] = endpoint,
            ["Otlp:ExportInterval"] = "00:00:00.500",
        });
        var campaign = await server.CreateCampaignAsync(3);
        using var client = server.NewClient(TestTokens.Mint("exported"));
        await client.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null);

        // Protobuf keeps metric names as plain UTF-8: look for ours in what the collector got.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !received.Any(b => Encoding.UTF8.GetString(b).Contains("couponlive.issue.requests", StringComparison.Ordinal)))
            await Task.Delay(100);
        Assert.Contains(received, b => Encoding.UTF8.GetString(b).Contains("couponlive.issue.requests", StringComparison.Ordinal));
        await collector.StopAsync();
    }
}
