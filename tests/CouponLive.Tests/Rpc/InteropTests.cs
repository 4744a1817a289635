using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CouponLive.Rpc;
using CouponLive.Rpc.V1;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;

namespace CouponLive.Tests.Rpc;

/// <summary>
/// Real server processes with the gRPC (h2c) port open: one per mode, plus one whose commits always time
/// out (UNAVAILABLE). Interop clients run against them from Node (tests/interop, installed by scripts/test.sh).
/// </summary>
public sealed class RpcServersFixture : IAsyncLifetime
{
    public ServerProcess Embedded { get; private set; } = null!;
    public ServerProcess Production { get; private set; } = null!;
    public ServerProcess Down { get; private set; } = null!;
    private ServerState _production = null!;

    public async ValueTask InitializeAsync()
    {
        _production = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        var starts = new[]
        {
            ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), grpc: true),
            ServerProcess.StartAsync(_production, grpc: true),
            ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), new() { ["Issuance__CommitTimeout"] = "00:00:00" }, grpc: true),
        };
        await Task.WhenAll(starts);
        (Embedded, Production, Down) = (starts[0].Result, starts[1].Result, starts[2].Result);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in new[] { Embedded, Production, Down }) if (server is not null) await server.DisposeAsync();
        await TestServices.DropDatabaseAsync(_production.Postgres!);
    }
}

public sealed class InteropTests(RpcServersFixture servers) : IClassFixture<RpcServersFixture>
{
    private static readonly string InteropDirectory = FindInteropDirectory();

    private static string FindInteropDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "interop");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException("tests/interop not found above " + AppContext.BaseDirectory);
    }

    // ---- real clients from npm ----

    [Theory]
    [InlineData("grpc-js", ServerMode.Embedded)]
    [InlineData("connect-grpc", ServerMode.Embedded)]
    [InlineData("connect-json-h1", ServerMode.Embedded)]
    [InlineData("connect-binary-h1", ServerMode.Embedded)]
    [InlineData("connect-json-h2", ServerMode.Embedded)]
    [InlineData("connect-binary-h2", ServerMode.Embedded)]
    [InlineData("grpc-js", ServerMode.Production)]
    [InlineData("connect-json-h1", ServerMode.Production)]
    public async Task Node_client_passes_the_interop_suite(string client, ServerMode mode)
    {
        Assert.True(Directory.Exists(Path.Combine(InteropDirectory, "node_modules")),
            "tests/interop/node_modules is missing: run the tests with ./scripts/test.sh (it runs npm ci), or npm ci in tests/interop.");
        var server = mode == ServerMode.Embedded ? servers.Embedded : servers.Production;

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--test", "--test-force-exit", "--test-reporter=spec", "interop.test.mjs" }) info.ArgumentList.Add(arg);
        info.Environment["CLIENT"] = client;
        info.Environment["COUPONLIVE_HTTP"] = server.BaseAddress.ToString().TrimEnd('/');
        info.Environment["COUPONLIVE_GRPC"] = server.GrpcAddress!.ToString().TrimEnd('/');
        info.Environment["COUPONLIVE_DOWN_HTTP"] = servers.Down.BaseAddress.ToString().TrimEnd('/');
        info.Environment["COUPONLIVE_DOWN_GRPC"] = servers.Down.GrpcAddress!.ToString().TrimEnd('/');
        info.Environment["COUPONLIVE_SIGNING_KEY"] = TestTokens.SigningKey;
        info.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{client} did not finish in 120 s:\n{await stdout}\n{await stderr}");
        }
        var output = await stdout + await stderr;
        TestContext.Current.TestOutputHelper?.WriteLine(output);
        Assert.True(process.ExitCode == 0, $"{client} ({mode}) failed with exit code {process.ExitCode}:\n{output}");
        Assert.Contains("ℹ fail 0", output, StringComparison.Ordinal);
        Assert.Contains("ℹ pass 10", output, StringComparison.Ordinal);
    }

    // ---- protocol details, byte by byte ----

    private HttpClient H2c() => new(new SocketsHttpHandler())
    {
        BaseAddress = servers.Embedded.GrpcAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static HttpRequestMessage Grpc(string method, byte[] body, string? token = null, bool http2 = true)
    {
        // SendAsync ignores HttpClient.DefaultRequestVersion: the message itself must ask for HTTP/2.
        var request = new HttpRequestMessage(HttpMethod.Post, RpcEndpoints.ServicePath + "/" + method)
        {
            Content = new ByteArrayContent(body),
            Version = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private async Task<string> CampaignAsync(int amount)
    {
        using var h2 = H2c();
        var now = DateTimeOffset.UtcNow;
        var create = new global::CouponLive.Rpc.V1.CreateCampaignRequest
        {
            Name = "proto-" + Guid.NewGuid().ToString("N"),
            Amount = amount,
            IssuedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddSeconds(-1)),
            ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddHours(1)),
        };
        using var response = await h2.SendAsync(Grpc("CreateCampaign", RpcWire.Frame(create), TestTokens.Mint("admin-1", "admin")), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal("0", string.Join(",", response.TrailingHeaders.GetValues("grpc-status")));
        return CreateCampaignResponse.Parser.ParseFrom(RpcWire.ReadUnaryFrame(body).Span).Campaign.Id;
    }

    [Fact]
    public async Task Grpc_success_has_one_frame_and_the_status_in_trailers()
    {
        var id = await CampaignAsync(5);
        using var h2 = H2c();
        using var response = await h2.SendAsync(Grpc("IssueCoupon", RpcWire.Frame(new IssueCouponRequest { CampaignId = id }), TestTokens.Mint("u-1")), TestContext.Current.CancellationToken);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        var coupon = IssueCouponResponse.Parser.ParseFrom(RpcWire.ReadUnaryFrame(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Span);
        Assert.Equal(1, coupon.Sequence);
        Assert.Equal("", Header(response, "grpc-status"));
        Assert.Equal("0", string.Join(",", response.TrailingHeaders.GetValues("grpc-status")));
    }

    [Theory]
    [InlineData("no token", 16, "auth.unauthorized")]
    [InlineData("compressed", 12, "rpc.compression_unsupported")]
    [InlineData("too large", 8, "rpc.message_too_large")]
    [InlineData("garbage", 3, "request.invalid_json")]
    [InlineData("deadline", 4, "rpc.deadline_exceeded")]
    [InlineData("bad timeout", 3, "rpc.invalid_timeout")]
    [InlineData("unknown method", 12, "rpc.unknown_method")]
    public async Task Grpc_errors_are_trailers_only(string scenario, int status, string reason)
    {
        var token = scenario == "no token" ? null : TestTokens.Mint("u-2");
        var ok = RpcWire.Frame(new IssueCouponRequest { CampaignId = "1" });
        var body = scenario switch
        {
            "compressed" => [1, .. ok[1..]],
            "too large" => [0, 0, 0x40, 0, 1, .. new byte[RpcWire.MaxMessageBytes + 1]],
            "garbage" => [0, 0, 0, 0, 2, 0xFF, 0xFF],
            _ => ok,
        };
        using var request = Grpc(scenario == "unknown method" ? "DeleteEverything" : "IssueCoupon", body, token);
        if (scenario == "deadline") request.Headers.TryAddWithoutValidation("grpc-timeout", "0n"); // already expired
        if (scenario == "bad timeout") request.Headers.TryAddWithoutValidation("grpc-timeout", "soon");
        using var h2 = H2c();
        using var response = await h2.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "grpc-status"));
        Assert.StartsWith(reason + ":", RpcWire.PercentDecode(Header(response, "grpc-message")), StringComparison.Ordinal);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task A_server_side_deadline_ends_a_call_still_waiting_for_its_commit()
    {
        var id = await CampaignAsync(1000);
        using var h2 = H2c();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var request = Grpc("IssueCoupon", RpcWire.Frame(new IssueCouponRequest { CampaignId = id }), TestTokens.Mint($"deadline-{i}"));
            request.Headers.TryAddWithoutValidation("grpc-timeout", "1u");
            using var response = await h2.SendAsync(request, TestContext.Current.CancellationToken);
            await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            return response.Headers.TryGetValues("grpc-status", out var status)
                ? string.Join(",", status)
                : string.Join(",", response.TrailingHeaders.GetValues("grpc-status"));
        }));
        Assert.Contains("4", outcomes);
        Assert.All(outcomes, o => Assert.True(o is "0" or "4", o));
    }

    [Fact]
    public async Task Grpc_on_the_http1_port_says_it_needs_http2()
    {
        using var http1 = new HttpClient { BaseAddress = servers.Embedded.BaseAddress };
        using var response = await http1.SendAsync(Grpc("GetCampaign", RpcWire.Frame(new GetCampaignRequest { Id = "1" }), TestTokens.Mint("u-3"), http2: false), TestContext.Current.CancellationToken);
        Assert.Equal("12", Header(response, "grpc-status"));
        Assert.StartsWith("rpc.http2_required", Header(response, "grpc-message"), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> ConnectAsync(string method, string json, string? token, Action<HttpRequestMessage>? configure = null, string contentType = "application/json")
    {
        using var http1 = new HttpClient { BaseAddress = servers.Embedded.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, RpcEndpoints.ServicePath + "/" + method) { Content = new StringContent(json, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        configure?.Invoke(request);
        return await http1.SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Connect_json_works_like_curl_and_errors_use_the_connect_status_mapping()
    {
        var id = await CampaignAsync(1);
        using var first = await ConnectAsync("IssueCoupon", $$"""{"campaignId":"{{id}}"}""", TestTokens.Mint("c-1"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var coupon = await first.ReadJsonAsync();
        Assert.Equal("1", coupon["sequence"]!.GetValue<string>()); // int64 as a JSON string
        Assert.EndsWith("Z", coupon["issuedAt"]!.GetValue<string>(), StringComparison.Ordinal);

        using var soldOut = await ConnectAsync("IssueCoupon", $$"""{"campaign_id":"{{id}}"}""", TestTokens.Mint("c-2"));
        Assert.Equal((HttpStatusCode)429, soldOut.StatusCode);
        Assert.Equal("application/json", soldOut.Content.Headers.ContentType?.MediaType);
        var error = await soldOut.ReadJsonAsync();
        Assert.Equal("resource_exhausted", error["code"]!.GetValue<string>());
        Assert.StartsWith("campaign.sold_out:", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("google.rpc.ErrorInfo", error["details"]![0]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("no token", 401, "unauthenticated")]
    [InlineData("bad json", 400, "invalid_argument")]
    [InlineData("bad timeout", 400, "invalid_argument")]
    [InlineData("gzip", 501, "unimplemented")]
    [InlineData("unknown method", 501, "unimplemented")]
    [InlineData("not found", 404, "not_found")]
    public async Task Connect_errors_are_connect_json_not_problem_details(string scenario, int status, string code)
    {
        using var response = await ConnectAsync(
            scenario == "unknown method" ? "Nope" : "GetCampaign",
            scenario == "bad json" ? "{\"id\": " : """{"id":"3999999999"}""",
            scenario == "no token" ? null : TestTokens.Mint("c-3"),
            r =>
            {
                if (scenario == "bad timeout") r.Headers.TryAddWithoutValidation("connect-timeout-ms", "-1");
                if (scenario == "gzip") r.Content!.Headers.ContentEncoding.Add("gzip");
            });
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, (await response.ReadJsonAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_media_types_are_415()
    {
        using var response = await ConnectAsync("GetCampaign", "{}", TestTokens.Mint("c-4"), contentType: "text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
