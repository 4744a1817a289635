using System.Globalization;
using System.Text;
using CouponLive.Rpc.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using StackExchange.Redis;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Token-less, forged and expired issue requests over REST, Connect and gRPC, and their answers.</summary>
public sealed class IssueFlood : IDisposable
{
    private readonly HttpClient _http;
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _grpc;

    private static readonly Method<IssueCouponRequest, IssueCouponResponse> IssueCoupon = new(MethodType.Unary, "couponlive.v1.CouponService", "IssueCoupon",
        Marshallers.Create(m => m.ToByteArray(), IssueCouponRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), IssueCouponResponse.Parser.ParseFrom));

    public IssueFlood(ServerProcess server)
    {
        _http = Client(server.BaseAddress, null, maxConnections: 32);
        _channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        _grpc = _channel.CreateCallInvoker();
    }

    public enum Transport { Rest, Connect, Grpc }

    public enum Credential { None, ForgedSignature, Expired, Valid }

    public enum Refusal { None, Unauthenticated, RateLimited, Other }

    public sealed record Request(Transport Transport, Credential Credential, long CampaignId, string? Token)
    {
        /// <summary>The i-th request of a flood: mostly REST, a fifth for <paramref name="realId"/>, the rest for random ids.</summary>
        public static Request Of(int i, Random random, long realId)
        {
            var transport = (i % 6) switch { 4 => Transport.Connect, 5 => Transport.Grpc, _ => Transport.Rest };
            var credential = (Credential)(i % 3);
            var id = random.Next(5) == 0 ? realId : random.NextInt64(1_000_000, uint.MaxValue);
            return new Request(transport, credential, id, TokenFor(credential, i));
        }

        public static string? TokenFor(Credential credential, int i) => credential switch
        {
            Credential.None => null,
            Credential.ForgedSignature => TestTokens.Mint($"forger-{i}", key: "not the service's key, but 32+ bytes long"),
            Credential.Expired => TestTokens.Mint($"late-{i}", lifetime: TimeSpan.FromMinutes(-10)),
            _ => TestTokens.Mint($"user-{i}"),
        };
    }

    /// <summary>One answer: its refusal kind, the stable code, and Retry-After (RetryInfo for gRPC) when given.</summary>
    public sealed record Answer(Request Request, int Status, Refusal Refused, string? Code, TimeSpan? RetryAfter)
    {
        public override string ToString() => $"{Request.Transport} {Request.Credential} campaign {Request.CampaignId}: {Status} {Code} retry-after {RetryAfter}";
    }

    public static HttpClient Client(Uri baseAddress, string? token, int maxConnections = 8)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    /// <summary>Sends the requests, 32 at a time, and returns their answers in order.</summary>
    public async Task<Answer[]> SendAsync(IReadOnlyList<Request> requests, int concurrency = 32)
    {
        using var slots = new SemaphoreSlim(concurrency);
        return await Task.WhenAll(requests.Select(async r =>
        {
            await slots.WaitAsync();
            try
            {
                return await SendAsync(r);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    public async Task<Answer> SendAsync(Request r)
    {
        var campaign = r.CampaignId.ToString(CultureInfo.InvariantCulture);
        if (r.Transport == Transport.Grpc)
        {
            var headers = r.Token is null ? new Metadata() : new Metadata { { "authorization", "Bearer " + r.Token } };
            try
            {
                await _grpc.AsyncUnaryCall(IssueCoupon, null, new CallOptions(headers), new IssueCouponRequest { CampaignId = campaign });
                return new Answer(r, 0, Refusal.None, null, null);
            }
            catch (RpcException e)
            {
                var details = e.Trailers.GetValueBytes("grpc-status-details-bin") is { } bytes ? Google.Rpc.Status.Parser.ParseFrom(bytes) : null;
                var retry = details?.Details.FirstOrDefault(d => d.Is(Google.Rpc.RetryInfo.Descriptor))?.Unpack<Google.Rpc.RetryInfo>().RetryDelay.ToTimeSpan();
                var refused = e.StatusCode switch
                {
                    StatusCode.Unauthenticated => Refusal.Unauthenticated,
                    StatusCode.ResourceExhausted => Refusal.RateLimited,
                    _ => Refusal.Other,
                };
                return new Answer(r, (int)e.StatusCode, refused, e.Status.Detail.Split(':')[0], retry);
            }
        }

        using var request = r.Transport == Transport.Rest
            ? new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/issue")
            : new HttpRequestMessage(HttpMethod.Post, "/couponlive.v1.CouponService/IssueCoupon")
            {
                Content = new StringContent($$"""{"campaignId":"{{campaign}}"}""", Encoding.UTF8, "application/json"),
            };
        if (r.Token is not null) request.Headers.Authorization = new("Bearer", r.Token);
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var json = body.StartsWith('{') ? System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject() : null;
        // REST: the ProblemDetails code; Connect: the message starts with it ("auth.unauthorized: ...").
        var code = r.Transport == Transport.Rest ? json?["code"]?.GetValue<string>() : json?["message"]?.GetValue<string>().Split(':')[0];
        var status = (int)response.StatusCode;
        var kind = status switch
        {
            401 => Refusal.Unauthenticated,
            429 => Refusal.RateLimited,
            200 or 201 => Refusal.None,
            _ => Refusal.Other,
        };
        return new Answer(r, status, kind, code, response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Every key under the server's prefix (SCAN, so a busy shared Redis is not blocked).</summary>
    public static async Task<HashSet<string>> KeysAsync(ConnectionMultiplexer redis, string prefix)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in redis.GetEndPoints())
            await foreach (var key in redis.GetServer(endpoint).KeysAsync(pattern: prefix + ":*", pageSize: 1000))
                keys.Add(key!);
        return keys;
    }

    public void Dispose()
    {
        _http.Dispose();
        _channel.Dispose();
    }
}
