using System.Diagnostics;
using System.Net;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>/metrics is valid Prometheus text (checked by promtool) and counts exactly the requests made.</summary>
public abstract class MetricsTests(ServerMode mode) : IAsyncLifetime
{
    private CouponLiveServer _server = null!;

    public async ValueTask InitializeAsync() => _server = CouponLiveServer.Start(await CouponLiveServer.NewStateAsync(mode));

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        if (_server.State.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
    }

    [Fact]
    public async Task Metrics_parse_and_match_the_requests_made()
    {
        var campaign = await _server.CreateCampaignAsync(5);
        var path = $"/api/v1/campaigns/{campaign["id"]}/issue";
        for (var u = 0; u < 8; u++)
        {
            using var client = _server.NewClient(TestTokens.Mint($"metered-{u}"));
            await client.PostAsync(path, null);              // 5 issued, 3 sold out
            if (u < 2) await client.PostAsync(path, null);   // 2 already issued
        }
        using (var stranger = _server.NewClient(TestTokens.Mint("x", lifetime: TimeSpan.FromMinutes(-5))))
            await stranger.PostAsync(path, null);            // 1 expired token
        using (var nobody = _server.NewClient())
            await nobody.PostAsync(path, null);              // 1 without a token
        using (var someone = _server.NewClient(TestTokens.Mint("y")))
            await someone.PostAsync("/api/v1/campaigns/424242/issue", null); // 1 unknown campaign

        var response = await _server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();

        await AssertPromtoolAcceptsAsync(text);
        var samples = PrometheusText.Parse(text);
        Assert.Equal(5, samples["couponlive_issue_requests_total{outcome=\"issued\"}"]);
        Assert.Equal(2, samples["couponlive_issue_requests_total{outcome=\"already_issued\"}"]);
        Assert.Equal(3, samples["couponlive_issue_requests_total{outcome=\"sold_out\"}"]);
        Assert.Equal(1, samples["couponlive_issue_requests_total{outcome=\"not_found\"}"]);
        Assert.Equal(1, samples["couponlive_auth_failures_total{reason=\"auth.token_expired\"}"]);
        Assert.Equal(1, samples["couponlive_auth_failures_total{reason=\"auth.unauthorized\"}"]);
        Assert.Equal(5, samples["couponlive_issue_duration_seconds_count{outcome=\"issued\"}"]);
        Assert.Equal(5, samples["couponlive_issue_duration_seconds_bucket{outcome=\"issued\",le=\"+Inf\"}"]);
        // Five winners were committed, in one or more groups.
        Assert.Equal(5 + 2, samples["couponlive_writer_batch_size_sum"]); // holders' retries are committed idempotently too
        if (mode == ServerMode.Production)
            Assert.Equal(5 + 2 + 3 + 1, samples["couponlive_gate_batch_size_sum"]); // every request, plus the first one's "not loaded" answer
    }

    /// <summary>promtool (Debian package prometheus, installed by scripts/test.sh) is the reference parser.</summary>
    private static async Task AssertPromtoolAcceptsAsync(string text)
    {
        var info = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var errors = await process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"promtool rejected /metrics:\n{errors}{output}\n---\n{text}");
    }
}

public sealed class EmbeddedMetricsTests() : MetricsTests(ServerMode.Embedded);

public sealed class ProductionMetricsTests() : MetricsTests(ServerMode.Production);
