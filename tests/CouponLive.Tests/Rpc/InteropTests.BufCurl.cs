using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf.Reflection;

namespace CouponLive.Tests.Rpc;

/// <summary>
/// buf curl (npm @bufbuild/buf) as a user runs it: through server reflection only over gRPC (it keeps
/// reflection's bidirectional stream open and sends each request after the previous answer), and with the
/// .proto files over Connect. Also what a client that goes away mid-call leaves in the logs.
/// </summary>
public sealed partial class InteropTests
{
    private static string Buf => Path.Combine(InteropDirectory, "node_modules", ".bin", "buf");
    private static string ProtoDirectory => Path.GetFullPath(Path.Combine(InteropDirectory, "..", "..", "proto"));

    private ServerProcess Server(ServerMode mode) => mode == ServerMode.Embedded ? servers.Embedded : servers.Production;

    private static string GrpcBase(ServerProcess server) => server.GrpcAddress!.ToString().TrimEnd('/');

    /// <summary>buf curl with these arguments, bounded to 60 s; its standard output after checking it succeeded.</summary>
    private static async Task<string> BufCurlAsync(params string[] arguments)
    {
        // A cache of its own: buf keeps built schemas there, and the tests leave the home directory alone.
        var cache = Path.Combine(Path.GetTempPath(), "couponlive-tests-buf-cache");
        var run = await RunAsync(Buf, ["curl", "--connect-timeout", "10", .. arguments], new() { ["BUF_CACHE_DIR"] = cache }, TimeSpan.FromSeconds(60));
        Assert.True(run.ExitCode == 0, $"buf curl {string.Join(' ', arguments)} failed with exit code {run.ExitCode}:\n{run.Stdout}{run.Stderr}");
        return run.Stdout;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [Fact]
    public async Task Buf_curl_lists_the_services_and_methods_through_reflection()
    {
        var grpc = GrpcBase(servers.Embedded);
        var services = Lines(await BufCurlAsync("--protocol", "grpc", "--http2-prior-knowledge", "--list-services", grpc));
        Assert.Contains("couponlive.v1.CouponService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);

        var methods = Lines(await BufCurlAsync("--protocol", "grpc", "--list-methods", grpc));
        foreach (var method in new[] { "CreateCampaign", "GetCampaign", "IssueCoupon", "GetCoupon", "RedeemCoupon" })
            Assert.Contains("couponlive.v1.CouponService/" + method, methods);
        Assert.Contains("grpc.health.v1.Health/Check", methods);

        var health = JsonNode.Parse(await BufCurlAsync("--protocol", "grpc", grpc + "/grpc.health.v1.Health/Check"))!;
        Assert.Equal("SERVING", health["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Buf_curl_reads_a_method_schema_through_reflection()
    {
        // buf curl has no "describe": it calls the reflection service itself, whose schema it also takes from reflection.
        var answer = JsonNode.Parse(await BufCurlAsync("--protocol", "grpc",
            "-d", """{"file_containing_symbol":"couponlive.v1.CouponService.IssueCoupon"}""",
            GrpcBase(servers.Embedded) + "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))!;
        var files = answer["fileDescriptorResponse"]!["fileDescriptorProto"]!.AsArray()
            .Select(f => FileDescriptorProto.Parser.ParseFrom(Convert.FromBase64String(f!.GetValue<string>())))
            .ToList();
        var file = files.Single(f => f.Name == "couponlive/v1/coupon.proto");
        var method = file.Service.Single(s => s.Name == "CouponService").Method.Single(m => m.Name == "IssueCoupon");
        Assert.Equal(".couponlive.v1.IssueCouponRequest", method.InputType);
        Assert.Equal(".couponlive.v1.IssueCouponResponse", method.OutputType);
        Assert.Contains(file.MessageType.Single(m => m.Name == "IssueCouponRequest").Field,
            f => f.Name == "campaign_id" && f.Type == FieldDescriptorProto.Types.Type.String);
    }

    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task Buf_curl_issues_a_coupon_over_grpc_with_the_schema_from_reflection(ServerMode mode)
    {
        var server = Server(mode);
        var id = await TestCampaigns.CreateAsync(server.BaseAddress, 5);
        var user = "buf-grpc-" + Guid.NewGuid().ToString("N");
        var token = TestTokens.Mint(user);
        string[] call = ["--protocol", "grpc", "-H", "authorization: Bearer " + token, "-d", $$"""{"campaign_id":"{{id}}"}""",
            GrpcBase(server) + "/couponlive.v1.CouponService/IssueCoupon"];
        var first = JsonNode.Parse(await BufCurlAsync(call))!;
        var again = JsonNode.Parse(await BufCurlAsync(call))!;
        await AssertIssuedOnceAsync(server, id, user, token, first, again);
    }

    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task Buf_curl_issues_a_coupon_over_connect_with_the_proto_files(ServerMode mode)
    {
        // Connect has no reflection here: the schema comes from proto/.
        var server = Server(mode);
        var id = await TestCampaigns.CreateAsync(server.BaseAddress, 5);
        var user = "buf-connect-" + Guid.NewGuid().ToString("N");
        var token = TestTokens.Mint(user);
        string[] call = ["--protocol", "connect", "--schema", ProtoDirectory, "-H", "authorization: Bearer " + token,
            "-d", $$"""{"campaign_id":"{{id}}"}""", new Uri(server.BaseAddress, "/couponlive.v1.CouponService/IssueCoupon").ToString()];
        var first = JsonNode.Parse(await BufCurlAsync(call))!;
        var again = JsonNode.Parse(await BufCurlAsync(call))!;
        await AssertIssuedOnceAsync(server, id, user, token, first, again);
    }

    /// <summary>The first answer is a new coupon, the second the same one again, and the store holds it.</summary>
    private static async Task AssertIssuedOnceAsync(ServerProcess server, long id, string user, string token, JsonNode first, JsonNode again)
    {
        var code = first["code"]!.GetValue<string>();
        Assert.Matches(new Regex("^[가-힣0-9]{1,10}$"), code);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), first["campaignId"]!.GetValue<string>());
        Assert.Equal(user, first["userId"]!.GetValue<string>());
        Assert.Equal("1", first["sequence"]!.GetValue<string>()); // int64 as a JSON string
        Assert.Null(first["alreadyIssued"]); // false is the default, left out
        Assert.Equal(code, again["code"]!.GetValue<string>());
        Assert.True(again["alreadyIssued"]!.GetValue<bool>());

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var read = await http.GetAsync("/api/v1/coupons/" + Uri.EscapeDataString(code), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var coupon = await read.ReadJsonAsync();
        Assert.Equal(id, coupon["campaignId"]!.GetValue<long>());
        Assert.Equal(user, coupon["userId"]!.GetValue<string>());
        Assert.Equal(1, coupon["sequence"]!.GetValue<long>());
        Assert.Equal("issued", coupon["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_unary_call_abandoned_mid_message_is_logged_as_canceled_not_as_an_error()
    {
        // The frame guard no longer reads a request to its end, so the library is the one to see the client go.
        // A server of its own, with the library's call log: its only call is this one, so its log says when
        // the library (past the guard) is reading the message.
        await using var server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded),
            new() { ["Logging__LogLevel__Grpc.AspNetCore.Server.ServerCallHandler"] = "Debug" }, grpc: true);
        int Count(string line) => server.Output.Split('\n').Count(l => l.Contains(line, StringComparison.Ordinal));

        using var h2 = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.GrpcAddress!, "/couponlive.v1.CouponService/RedeemCoupon"))
        {
            // The header announces a 20-byte message; 2 bytes of it come, then the client goes away.
            Content = new UnfinishedBody([0, 0, 0, 0, 20, 0x0a, 0x01]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("abandon-1"));
        using var abandon = new CancellationTokenSource();
        var send = h2.SendAsync(request, abandon.Token);

        await WaitForLogAsync(server, () => Count("Reading message.") > 0, "the library reading the message");
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        await WaitForLogAsync(server, () => Count("Service method 'RedeemCoupon' canceled.") > 0, "the call canceled");

        var lines = server.Output.Split('\n');
        var errors = lines.Select((line, i) => (line, i))
            .Where(x => x.line.StartsWith("fail:", StringComparison.Ordinal) || x.line.StartsWith("crit:", StringComparison.Ordinal))
            .Select(x => string.Join("\n", lines.Skip(x.i).Take(8)))
            .ToList();
        Assert.True(errors.Count == 0, "an abandoned call was logged as an error:\n" + string.Join("\n", errors));
        Assert.False(server.HasExited);
    }

    /// <summary>Waits (at most 30 s, a bound against hanging, not a measure) for a server's log to show something.</summary>
    private static async Task WaitForLogAsync(ServerProcess server, Func<bool> seen, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !seen(); await Task.Delay(50, TestContext.Current.CancellationToken))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"the server never logged {what}:\n{server.Output[^Math.Min(server.Output.Length, 4000)..]}");
        }
    }
}
