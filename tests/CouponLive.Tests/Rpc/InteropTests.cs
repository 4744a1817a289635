using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CouponLive.Rpc;
using CouponLive.Rpc.V1;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CouponLive.Tests.Rpc;

public sealed partial class InteropTests(RpcServersFixture servers) : IClassFixture<RpcServersFixture>
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
        var server = mode == ServerMode.Embedded ? servers.Embedded : servers.Production;
        var output = await RunNodeAsync("interop.test.mjs", new()
        {
            ["CLIENT"] = client,
            ["COUPONLIVE_HTTP"] = server.BaseAddress.ToString().TrimEnd('/'),
            ["COUPONLIVE_GRPC"] = server.GrpcAddress!.ToString().TrimEnd('/'),
            ["COUPONLIVE_DOWN_HTTP"] = servers.Down.BaseAddress.ToString().TrimEnd('/'),
            ["COUPONLIVE_DOWN_GRPC"] = servers.Down.GrpcAddress!.ToString().TrimEnd('/'),
        });
        Assert.Contains("ℹ pass 10", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_without_the_proto_lists_and_calls_the_service_through_reflection()
    {
        var output = await RunNodeAsync("reflection.test.mjs", new() { ["COUPONLIVE_GRPC"] = servers.Embedded.GrpcAddress!.ToString().TrimEnd('/') });
        Assert.Contains("ℹ pass 1", output, StringComparison.Ordinal);
    }

    /// <summary>Runs one node:test file of tests/interop (bounded to 120 s); its output, after checking that nothing failed.</summary>
    private static async Task<string> RunNodeAsync(string script, Dictionary<string, string> environment)
    {
        var environmentWithKey = new Dictionary<string, string>(environment) { ["COUPONLIVE_SIGNING_KEY"] = TestTokens.SigningKey };
        var run = await RunAsync("node", ["--test", "--test-force-exit", "--test-reporter=spec", script], environmentWithKey, TimeSpan.FromSeconds(120));
        var output = run.Stdout + run.Stderr;
        Assert.True(run.ExitCode == 0, $"{script} ({string.Join(", ", environment.Select(kv => kv.Key + "=" + kv.Value))}) failed with exit code {run.ExitCode}:\n{output}");
        Assert.Contains("ℹ fail 0", output, StringComparison.Ordinal);
        return output;
    }

    /// <summary>
    /// Runs a program from tests/interop (node, or a binary of its node_modules) to its end, killed and failed
    /// after <paramref name="timeout"/>; its exit code and output.
    /// </summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string program, IEnumerable<string> arguments, Dictionary<string, string> environment, TimeSpan timeout)
    {
        Assert.True(Directory.Exists(Path.Combine(InteropDirectory, "node_modules")),
            "tests/interop/node_modules is missing: run the tests with ./scripts/test.sh (it runs npm ci), or npm ci in tests/interop.");
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = InteropDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in arguments) info.ArgumentList.Add(arg);
        foreach (var (k, v) in environment) info.Environment[k] = v;
        info.Environment["NO_COLOR"] = "1";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds:0} s:\n{await stdout}\n{await stderr}");
        }
        var (outText, errText) = (await stdout, await stderr);
        TestContext.Current.TestOutputHelper?.WriteLine($"$ {program} {string.Join(' ', arguments)} -> {process.ExitCode}\n{outText}{errText}");
        return (process.ExitCode, outText, errText);
    }

    // ---- gRPC with a .NET client (Grpc.Net.Client) ----

    private static Method<TRequest, TResponse> MethodOf<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        new(MethodType.Unary, "couponlive.v1.CouponService", name,
            Marshallers.Create(m => m.ToByteArray(), request.ParseFrom), Marshallers.Create(m => m.ToByteArray(), response.ParseFrom));

    private static readonly Method<global::CouponLive.Rpc.V1.CreateCampaignRequest, CreateCampaignResponse> CreateCampaign =
        MethodOf("CreateCampaign", global::CouponLive.Rpc.V1.CreateCampaignRequest.Parser, CreateCampaignResponse.Parser);
    private static readonly Method<IssueCouponRequest, IssueCouponResponse> IssueCoupon = MethodOf("IssueCoupon", IssueCouponRequest.Parser, IssueCouponResponse.Parser);
    private static readonly Method<IssueCouponRequest, IssueCouponResponse> DeleteEverything = MethodOf("DeleteEverything", IssueCouponRequest.Parser, IssueCouponResponse.Parser);

    private GrpcChannel Channel() => GrpcChannel.ForAddress(servers.Embedded.GrpcAddress!);

    private static CallOptions As(string? token, DateTime? deadline = null) =>
        new(token is null ? null : new Metadata { { "authorization", "Bearer " + token } }, deadline);

    private async Task<string> CampaignAsync(int amount)
    {
        using var channel = Channel();
        var now = DateTimeOffset.UtcNow;
        var create = new global::CouponLive.Rpc.V1.CreateCampaignRequest
        {
            Name = "proto-" + Guid.NewGuid().ToString("N"),
            Amount = amount,
            IssuedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddSeconds(-1)),
            ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddHours(1)),
        };
        return (await channel.CreateCallInvoker().AsyncUnaryCall(CreateCampaign, null, As(TestTokens.Mint("admin-1", "admin")), create)).Campaign.Id;
    }

    [Fact]
    public async Task Grpc_issues_a_coupon_and_a_retry_gets_the_same_one()
    {
        var id = await CampaignAsync(5);
        using var channel = Channel();
        var invoker = channel.CreateCallInvoker();
        var token = TestTokens.Mint("u-1");
        var first = await invoker.AsyncUnaryCall(IssueCoupon, null, As(token), new IssueCouponRequest { CampaignId = id });
        var again = await invoker.AsyncUnaryCall(IssueCoupon, null, As(token), new IssueCouponRequest { CampaignId = id });
        Assert.Equal(1, first.Sequence);
        Assert.False(first.AlreadyIssued);
        Assert.Equal(first.Code, again.Code);
        Assert.True(again.AlreadyIssued);
    }

    [Theory]
    [InlineData("no token", StatusCode.Unauthenticated, "auth.unauthorized")]
    [InlineData("expired token", StatusCode.Unauthenticated, "auth.token_expired")]
    [InlineData("not found", StatusCode.NotFound, "campaign.not_found")]
    [InlineData("another user", StatusCode.PermissionDenied, "auth.forbidden")]
    [InlineData("no campaign id", StatusCode.InvalidArgument, "validation.required")]
    public async Task Grpc_errors_carry_the_status_and_the_rest_code_as_error_info(string scenario, StatusCode status, string reason)
    {
        var id = await CampaignAsync(5);
        using var channel = Channel();
        var token = scenario switch
        {
            "no token" => null,
            "expired token" => TestTokens.Mint("u-2", lifetime: TimeSpan.FromMinutes(-10)),
            _ => TestTokens.Mint("u-2"),
        };
        var request = new IssueCouponRequest
        {
            CampaignId = scenario switch { "not found" => "3999999999", "no campaign id" => "", _ => id },
            UserId = scenario == "another user" ? "someone-else" : "",
        };
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await channel.CreateCallInvoker().AsyncUnaryCall(IssueCoupon, null, As(token), request));
        Assert.Equal(status, error.StatusCode);
        Assert.StartsWith(reason + ":", error.Status.Detail, StringComparison.Ordinal);
        var details = Google.Rpc.Status.Parser.ParseFrom(error.Trailers.GetValueBytes("grpc-status-details-bin"));
        Assert.Equal(reason, details.Details.Single().Unpack<Google.Rpc.ErrorInfo>().Reason);
    }

    [Fact]
    public async Task Grpc_library_answers_protocol_errors_itself()
    {
        using var channel = Channel();
        var invoker = channel.CreateCallInvoker();
        var unknown = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await invoker.AsyncUnaryCall(DeleteEverything, null, As(TestTokens.Mint("u-3")), new IssueCouponRequest { CampaignId = "1" }));
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        var expired = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await invoker.AsyncUnaryCall(IssueCoupon, null, As(TestTokens.Mint("u-3"), DateTime.UtcNow.AddSeconds(-1)), new IssueCouponRequest { CampaignId = "1" }));
        Assert.Equal(StatusCode.DeadlineExceeded, expired.StatusCode);
    }

    [Fact]
    public async Task A_server_side_deadline_ends_a_call_still_waiting_for_its_commit()
    {
        var id = await CampaignAsync(10);
        // Another writer holds SQLite's write lock: the call's commit cannot finish until it lets go.
        await using var holder = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(servers.Embedded.State.DataDirectory, "couponlive.db")}");
        await holder.OpenAsync(TestContext.Current.CancellationToken);
        await using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            await begin.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        // A raw request, so the deadline travels only as grpc-timeout and only the server can enforce it.
        using var h2 = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(servers.Embedded.GrpcAddress!, "/couponlive.v1.CouponService/IssueCoupon"))
        {
            Content = new ByteArrayContent(Frame(new IssueCouponRequest { CampaignId = id })),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", "300m");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("deadline-1"));
        var started = Stopwatch.GetTimestamp();
        using var response = await h2.SendAsync(request, TestContext.Current.CancellationToken);
        await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var status = response.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders : response.TrailingHeaders.GetValues("grpc-status");
        // DEADLINE_EXCEEDED is the deadline's answer: the commit cannot end the call (the lock is held until below),
        // and waiting it out would end in UNAVAILABLE after the commit timeout. How long it took is only printed.
        Assert.True(string.Join(",", status) == "4", $"the deadline must end the call, not the commit: status {string.Join(",", status)} after {elapsed.TotalMilliseconds:F0} ms");
        TestContext.Current.SendDiagnosticMessage($"a 300 ms gRPC deadline ended a call waiting for its commit after {elapsed.TotalMilliseconds:F0} ms");

        // Once the lock goes, the commit the call started completes: a retry finds the same coupon.
        await using (var rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        using var channel = Channel();
        var retry = await channel.CreateCallInvoker().AsyncUnaryCall(IssueCoupon, null, As(TestTokens.Mint("deadline-1")), new IssueCouponRequest { CampaignId = id });
        Assert.Equal(1, retry.Sequence);
    }

    private static byte[] Frame(IMessage message)
    {
        var frame = new byte[5 + message.CalculateSize()];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(frame.Length - 5));
        message.WriteTo(frame.AsSpan(5));
        return frame;
    }

    [Fact]
    public async Task Grpc_on_the_http1_port_says_it_needs_http2()
    {
        using var http1 = new HttpClient { BaseAddress = servers.Embedded.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/couponlive.v1.CouponService/GetCampaign") { Content = new ByteArrayContent(Frame(new GetCampaignRequest { Id = "1" })) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        using var response = await http1.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Contains("HTTP/1.1", string.Join(",", response.Headers.GetValues("grpc-message")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grpc_health_reports_serving_when_the_store_answers()
    {
        using var channel = Channel();
        var health = new Grpc.Health.V1.Health.HealthClient(channel);
        var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    private async Task<HttpResponseMessage> ConnectAsync(string method, string json, string? token, Action<HttpRequestMessage>? configure = null, string contentType = "application/json")
    {
        using var http1 = new HttpClient { BaseAddress = servers.Embedded.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, ConnectEndpoints.ServicePath + "/" + method) { Content = new StringContent(json, Encoding.UTF8) };
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
    [InlineData("gzip", 415, "unimplemented")]           // the client's doing: a 4xx, the code says what
    [InlineData("unknown method", 404, "unimplemented")]
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
