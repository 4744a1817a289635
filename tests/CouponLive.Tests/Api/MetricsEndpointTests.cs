using System.Net;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>/metrics is read with GET (or probed with HEAD); any other method is told so, as on every route.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private CouponLiveServer _server = null!;

    public ValueTask InitializeAsync()
    {
        _server = CouponLiveServer.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    [InlineData("PROPFIND")]
    [InlineData("FOO")]
    public async Task Any_method_but_GET_and_HEAD_gets_405_with_Allow_and_a_ProblemDetails(string method)
    {
        using var response = await _server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/metrics"));
        await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "http.method_not_allowed");
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("couponlive_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GET_reads_the_metrics_and_HEAD_answers_without_a_body()
    {
        using var get = await _server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.StartsWith("text/plain", get.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("target_info", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var head = await _server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/metrics"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }
}
