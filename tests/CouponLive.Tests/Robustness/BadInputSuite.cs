using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Robustness;

/// <summary>
/// Thousands of generated malformed, odd and hostile requests (FuzzInputs, seeded: set COUPONLIVE_FUZZ_SEED to
/// replay one) at every route of a real server process, over REST, Connect and gRPC. No answer may be a 5xx
/// (or a gRPC UNKNOWN; INTERNAL only for a payload that is not a message), every 4xx the service writes
/// carries a stable code, nothing is logged as an error, the process lives on, and a race afterwards
/// sells exactly.
/// </summary>
public abstract class BadInputSuite(ServerMode mode) : IAsyncLifetime
{
    private ServerProcess _server = null!;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(mode), grpc: true);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        if (_server.State.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
    }

    [Fact]
    public async Task Malformed_requests_get_4xx_with_a_code_and_leave_the_service_whole()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("COUPONLIVE_FUZZ_SEED"), out var s) ? s : 20261130 + (int)mode;
        var campaignId = await TestCampaigns.CreateAsync(_server.BaseAddress, 50);
        using var http1 = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 16,
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1, // hostile headers go out byte for byte
        }) { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var h2c = H2c();

        var inputs = new FuzzInputs(seed, campaignId);
        var openApi = (await (await http1.GetAsync("/openapi/v1.json")).ReadJsonAsync()).AsObject();
        var cases = inputs.Rest(openApi, perOperation: 220).Concat(inputs.Connect(700)).Concat(inputs.Grpc(500)).Concat(FuzzInputs.Other()).ToList();

        var failures = new ConcurrentQueue<string>();
        var sent = 0;
        using var limiter = new SemaphoreSlim(16);
        await Task.WhenAll(cases.Select(async c =>
        {
            await limiter.WaitAsync();
            try
            {
                // A header HTTP/2 forbids makes Kestrel close the whole connection (PROTOCOL_ERROR), taking the
                // client's other calls on it down too: such a request gets a connection of its own.
                using var own = c.Protocol == "grpc" && c.Headers.Any(h => h.Value.Any(ch => ch is < ' ' or > '~')) ? H2c() : null;
                if (await SendAsync(c.Protocol == "grpc" ? own ?? h2c : http1, c) is { } failure) failures.Enqueue($"{failure} <- {c.Description}");
                Interlocked.Increment(ref sent);
            }
            finally
            {
                limiter.Release();
            }
        }));

        TestContext.Current.SendDiagnosticMessage($"bad input ({mode}): {sent} requests, seed {seed}, {failures.Count} failures");
        var lines = _server.Output.Split('\n');
        var errors = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("fail:", StringComparison.Ordinal) || x.l.StartsWith("crit:", StringComparison.Ordinal))
            .Select(x => string.Join("\n", lines.Skip(x.i).Take(8))).ToList();
        Assert.True(failures.IsEmpty, $"{failures.Count} of {sent} answers broke the rules (seed {seed}):\n" + string.Join("\n", failures.Take(15))
            + $"\nthe server logged {errors.Count} errors, first:\n" + string.Join("\n", errors.Take(2)));
        Assert.False(_server.HasExited, _server.Output);
        Assert.True(errors.Count == 0, $"{errors.Count} errors logged:\n" + string.Join("\n", errors.Take(5)));

        // State intact: a race afterwards sells exactly.
        var raceId = await TestCampaigns.CreateAsync(_server.BaseAddress, 100);
        var driver = new SaleDriver([_server.BaseAddress], raceId, "after-fuzz");
        await driver.RunAsync(users: 300, clicks: 2, concurrency: 100, budget: TimeSpan.FromSeconds(60));
        var store = OpenStore();
        var report = await store.CheckInvariantsAsync(raceId, CancellationToken.None);
        if (store is IAsyncDisposable disposable) await disposable.DisposeAsync();
        Assert.True(report.SoldExactly && report.Violations().Count == 0, $"{report}; {driver}");
        Assert.Equal(100, driver.CodesByUser.Count);
    }

    private HttpClient H2c() => new(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1 })
    {
        BaseAddress = _server.GrpcAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private ICouponStore OpenStore() => _server.State.Postgres is { } postgres
        ? PostgresCouponStore.Open(postgres)
        : new SqliteCouponStore(Path.Combine(_server.State.DataDirectory, "couponlive.db"));

    /// <summary>Sends one case; null when the answer keeps the rules, else what is wrong with it.</summary>
    private static async Task<string?> SendAsync(HttpClient client, FuzzCase c)
    {
        if (!Uri.TryCreate(client.BaseAddress, c.Path, out var uri)) return null; // not a request a client can send
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), uri);
        if (c.Protocol == "grpc")
        {
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            if (c.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        foreach (var (name, value) in c.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) request.Content?.Headers.TryAddWithoutValidation(name, value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (HttpRequestException ex)
        {
            // The server closed the connection on a request Kestrel refuses at the framing level: allowed.
            return ex.InnerException is IOException or null ? null : $"transport error {ex.Message}";
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
                return status == 200 ? null : $"{status} event stream";
            var body = await response.Content.ReadAsByteArrayAsync();
            if (c.Protocol == "grpc") return JudgeGrpc(c, response, status);
            if (status >= 500)
                return $"{status} {Encoding.UTF8.GetString(body)[..Math.Min(body.Length, 200)]}";
            if (status < 400) return null;
            if (body.Length == 0)
                return status is 400 or 413 or 414 or 431 ? null : $"{status} without a body"; // Kestrel's own refusals have none
            return CodeOf(body) is { Length: > 0 } ? null : $"{status} without a code: {Encoding.UTF8.GetString(body)[..Math.Min(body.Length, 200)]}";
        }
    }

    private static string? JudgeGrpc(FuzzCase c, HttpResponseMessage response, int status)
    {
        if (status >= 500) return $"HTTP {status} on the gRPC port";
        if (status != 200) return null; // 415 for a content type gRPC does not speak, 426 and the like
        var grpcStatus = response.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders.First()
            : response.TrailingHeaders.TryGetValues("grpc-status", out var inTrailers) ? inTrailers.First() : null;
        return grpcStatus switch
        {
            null => "no grpc-status",
            "2" => "UNKNOWN: " + string.Join(",", response.Headers.Concat(response.TrailingHeaders).Where(h => h.Key == "grpc-message").SelectMany(h => h.Value)),
            "13" when !c.MalformedMessage => "INTERNAL for a well-formed message",
            _ => null,
        };
    }

    private static string? CodeOf(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body)?["code"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}

public sealed class EmbeddedBadInputSuite() : BadInputSuite(ServerMode.Embedded);

public sealed class ProductionBadInputSuite() : BadInputSuite(ServerMode.Production);
