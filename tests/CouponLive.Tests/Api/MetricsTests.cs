using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CouponLive.Rpc.V1;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CouponLive.Tests.Api;

/// <summary>
/// /metrics is valid Prometheus text (checked by promtool) and counts exactly the requests made, whichever
/// transport made them, and so does the live view. A server process of its own: counts are per process.
/// </summary>
public abstract class MetricsTests(ServerMode mode) : IAsyncLifetime
{
    private ServerProcess _server = null!;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(mode), grpc: true);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        if (_server.State.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
    }

    private HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = _server.BaseAddress };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task Metrics_parse_and_match_the_requests_made()
    {
        var id = await TestCampaigns.CreateAsync(_server.BaseAddress, 5);
        var path = $"/api/v1/campaigns/{id}/issue";
        for (var u = 0; u < 8; u++)
        {
            using var client = Client(TestTokens.Mint($"metered-{u}"));
            await client.PostAsync(path, null);              // 5 issued, 3 sold out
            if (u < 2) await client.PostAsync(path, null);   // 2 already issued
        }
        using (var stranger = Client(TestTokens.Mint("x", lifetime: TimeSpan.FromMinutes(-5))))
            await stranger.PostAsync(path, null);            // 1 expired token
        using (var nobody = Client())
            await nobody.PostAsync(path, null);              // 1 without a token
        using (var someone = Client(TestTokens.Mint("y")))
            await someone.PostAsync("/api/v1/campaigns/424242/issue", null); // 1 unknown campaign

        using var scraper = Client();
        var response = await scraper.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();

        await AssertPromtoolAcceptsAsync(text);
        var samples = PrometheusText.Parse(text);
        Assert.Equal(5, samples.Get("couponlive_issue_requests_total", ("outcome", "issued")));
        Assert.Equal(2, samples.Get("couponlive_issue_requests_total", ("outcome", "already_issued")));
        Assert.Equal(3, samples.Get("couponlive_issue_requests_total", ("outcome", "sold_out")));
        Assert.Equal(1, samples.Get("couponlive_issue_requests_total", ("outcome", "not_found")));
        Assert.Equal(1, samples.Get("couponlive_auth_failures_total", ("reason", "auth.token_expired")));
        Assert.Equal(1, samples.Get("couponlive_auth_failures_total", ("reason", "auth.unauthorized")));
        Assert.Equal(5, samples.Get("couponlive_issue_duration_seconds_count", ("outcome", "issued")));
        Assert.Equal(5, samples.Get("couponlive_issue_duration_seconds_bucket", ("outcome", "issued"), ("le", "+Inf")));
        // The seconds histograms use their own buckets (the SDK's defaults are for milliseconds): 0.5 ms to 10 s.
        Assert.True(samples.Has("couponlive_issue_duration_seconds_bucket", ("outcome", "issued"), ("le", "0.0005")), text);
        // Five winners were committed, in one or more groups.
        // The holders clicking again were answered from the coupons this process saw committed: not committed again, nor asked of the gate.
        Assert.Equal(5, samples.Get("couponlive_writer_batch_size_sum"));
        if (mode == ServerMode.Production)
            Assert.Equal(5 + 3 + 1, samples.Get("couponlive_gate_batch_size_sum")); // every request but the holders' retries, plus the first one's "not loaded" answer
    }

    [Fact]
    public async Task Repeated_clicks_of_a_holder_and_of_a_user_told_sold_out_do_not_reach_the_gate()
    {
        var id = await TestCampaigns.CreateAsync(_server.BaseAddress, 1);
        var path = $"/api/v1/campaigns/{id}/issue";
        using var winner = Client(TestTokens.Mint("repeat-winner"));
        using var late = Client(TestTokens.Mint("repeat-late"));
        Assert.Equal(HttpStatusCode.Created, (await winner.PostAsync(path, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await late.PostAsync(path, null)).StatusCode);

        using var scraper = Client();
        var before = await PrometheusText.ReadAsync(scraper);
        for (var i = 0; i < 5; i++)
        {
            var again = await winner.PostAsync(path, null);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.True((await again.ReadJsonAsync())["alreadyIssued"]!.GetValue<bool>());
            Assert.Equal(HttpStatusCode.Conflict, (await late.PostAsync(path, null)).StatusCode);
        }
        var after = await PrometheusText.ReadAsync(scraper);

        // Five more of each outcome, answered by the process itself: no commit, and in production no script call.
        Assert.Equal(5, after.Get("couponlive_issue_requests_total", ("outcome", "already_issued")) - before.Get("couponlive_issue_requests_total", ("outcome", "already_issued")));
        Assert.Equal(5, after.Get("couponlive_issue_requests_total", ("outcome", "sold_out")) - before.Get("couponlive_issue_requests_total", ("outcome", "sold_out")));
        Assert.Equal(before.Get("couponlive_writer_batch_size_sum"), after.Get("couponlive_writer_batch_size_sum"));
        if (mode == ServerMode.Production)
        {
            Assert.True(before.Get("couponlive_gate_batch_size_sum") > 0, "the first clicks went through the Redis gate");
            Assert.Equal(before.Get("couponlive_gate_batch_size_sum"), after.Get("couponlive_gate_batch_size_sum"));
        }
    }

    [Fact]
    public async Task Every_transport_is_counted_in_the_metrics_and_the_live_view()
    {
        var id = await TestCampaigns.CreateAsync(_server.BaseAddress, 3);
        var campaign = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var channel = GrpcChannel.ForAddress(_server.GrpcAddress!);
        var grpc = channel.CreateCallInvoker();
        var issue = new Method<IssueCouponRequest, IssueCouponResponse>(MethodType.Unary, "couponlive.v1.CouponService", "IssueCoupon",
            Marshallers.Create(m => m.ToByteArray(), IssueCouponRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), IssueCouponResponse.Parser.ParseFrom));

        async Task<HttpStatusCode> Rest(string user)
        {
            using var client = Client(TestTokens.Mint(user));
            return (await client.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode;
        }
        async Task<HttpStatusCode> Connect(string user)
        {
            using var client = Client(TestTokens.Mint(user));
            using var body = new StringContent($$"""{"campaignId":"{{campaign}}"}""", Encoding.UTF8, "application/json");
            return (await client.PostAsync("/couponlive.v1.CouponService/IssueCoupon", body)).StatusCode;
        }
        async Task<StatusCode> Grpc(string? user)
        {
            var headers = user is null ? null : new Metadata { { "authorization", "Bearer " + TestTokens.Mint(user) } };
            try
            {
                await grpc.AsyncUnaryCall(issue, null, new CallOptions(headers), new IssueCouponRequest { CampaignId = campaign });
                return StatusCode.OK;
            }
            catch (Grpc.Core.RpcException e)
            {
                return e.StatusCode;
            }
        }

        Assert.Equal(HttpStatusCode.Created, await Rest("alice"));                  // issued
        Assert.Equal(HttpStatusCode.OK, await Connect("bob"));                      // issued
        Assert.Equal(StatusCode.OK, await Grpc("carol"));                          // issued
        Assert.Equal(HttpStatusCode.Conflict, await Rest("dave"));                  // sold out
        Assert.Equal(HttpStatusCode.OK, await Connect("alice"));                    // already issued
        Assert.Equal(StatusCode.OK, await Grpc("bob"));                            // already issued
        Assert.Equal((HttpStatusCode)429, await Connect("erin"));                   // sold out
        Assert.Equal(StatusCode.ResourceExhausted, await Grpc("frank"));           // sold out
        Assert.Equal(StatusCode.Unauthenticated, await Grpc(null));                // rejected for its token

        using var scraper = Client();
        var samples = await PrometheusText.ReadAsync(scraper);
        Assert.Equal(3, samples.Get("couponlive_issue_requests_total", ("outcome", "issued")));
        Assert.Equal(2, samples.Get("couponlive_issue_requests_total", ("outcome", "already_issued")));
        Assert.Equal(3, samples.Get("couponlive_issue_requests_total", ("outcome", "sold_out")));

        // The live view sums the campaign's finished seconds (published once a second): wait for them.
        using var admin = Client(TestTokens.Mint("operator", "admin"));
        var (totals, _) = await LiveStream.TotalsAsync(admin, id, atLeast: 9);
        Assert.Equal(3, totals["issued"]);
        Assert.Equal(2, totals["already_issued"]);
        Assert.Equal(3, totals["sold_out"]);
        Assert.Equal(1, totals["rejected_auth"]);
    }

    [Fact]
    public async Task A_gRPC_client_flooding_the_issue_method_gets_RESOURCE_EXHAUSTED_with_RetryInfo()
    {
        var id = await TestCampaigns.CreateAsync(_server.BaseAddress, 3);
        using var channel = GrpcChannel.ForAddress(_server.GrpcAddress!);
        var client = channel.CreateCallInvoker();
        var issue = new Method<IssueCouponRequest, IssueCouponResponse>(MethodType.Unary, "couponlive.v1.CouponService", "IssueCoupon",
            Marshallers.Create(m => m.ToByteArray(), IssueCouponRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), IssueCouponResponse.Parser.ParseFrom));
        var headers = new Metadata { { "authorization", "Bearer " + TestTokens.Mint("grpc-flooder") } };
        var request = new IssueCouponRequest { CampaignId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 60).Select(async _ =>
        {
            try
            {
                await client.AsyncUnaryCall(issue, null, new CallOptions(headers), request);
                return null;
            }
            catch (RpcException e)
            {
                return e;
            }
        }));
        var limited = outcomes.Where(e => e?.StatusCode == StatusCode.ResourceExhausted).ToList();
        Assert.InRange(limited.Count, 60 - 20 - 10, 60 - 20); // past the burst of 20, less what refilled meanwhile
        var first = limited[0]!;
        Assert.StartsWith("issue.rate_limited:", first.Status.Detail);
        var details = Google.Rpc.Status.Parser.ParseFrom(first.Trailers.GetValueBytes("grpc-status-details-bin"));
        var retry = Assert.Single(details.Details, d => d.Is(Google.Rpc.RetryInfo.Descriptor)).Unpack<Google.Rpc.RetryInfo>();
        Assert.True(retry.RetryDelay.ToTimeSpan() >= TimeSpan.FromSeconds(1));
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
