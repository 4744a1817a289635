using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// A bounded crowd: each user clicks a number of times, retrying a click on another server when it
/// gets no answer or a 503, until a definitive answer (201, 200, 409) or the attempt/time budget ends.
/// Every success answer is recorded so tests can check that each one has its row (I5).
/// </summary>
public sealed class SaleDriver(IReadOnlyList<Uri> servers, long campaignId, string userPrefix)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _codesByUser = new();
    private int _successes, _soldOut, _unavailable, _transportErrors, _other, _missingRetryAfter;

    public int Successes => Volatile.Read(ref _successes);
    public int SoldOut => Volatile.Read(ref _soldOut);
    public int Unavailable => Volatile.Read(ref _unavailable);
    public int TransportErrors => Volatile.Read(ref _transportErrors);
    public int Other => Volatile.Read(ref _other);
    /// <summary>503 answers without a Retry-After header (there should be none).</summary>
    public int MissingRetryAfter => Volatile.Read(ref _missingRetryAfter);

    /// <summary>Every code each user was told it holds (from 201 and 200 answers).</summary>
    public IReadOnlyDictionary<string, string[]> CodesByUser => _codesByUser.ToDictionary(kv => kv.Key, kv => kv.Value.Distinct().ToArray());

    public string UserId(int index) => $"{userPrefix}-{index}";

    public async Task RunAsync(int users, int clicks, int concurrency, TimeSpan budget, int maxAttemptsPerClick = 60)
    {
        var deadline = DateTime.UtcNow + budget;
        using var limiter = new SemaphoreSlim(concurrency);
        var clients = servers.Select(s => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = s,
            Timeout = TimeSpan.FromSeconds(10),
        }).ToArray();
        try
        {
            await Task.WhenAll(Enumerable.Range(0, users).Select(async u =>
            {
                var token = TestTokens.Mint(UserId(u));
                for (var click = 0; click < clicks; click++)
                {
                    await limiter.WaitAsync();
                    try
                    {
                        await ClickAsync(clients, u, click, token, deadline, maxAttemptsPerClick);
                    }
                    finally
                    {
                        limiter.Release();
                    }
                }
            }));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    private async Task ClickAsync(HttpClient[] clients, int user, int click, string token, DateTime deadline, int maxAttempts)
    {
        for (var attempt = 0; attempt < maxAttempts && DateTime.UtcNow < deadline; attempt++)
        {
            var client = clients[(user + click + attempt) % clients.Length];
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaignId}/issue");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await client.SendAsync(request);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Created or HttpStatusCode.OK:
                        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                        _codesByUser.GetOrAdd(UserId(user), _ => []).Add(body["code"]!.GetValue<string>());
                        Interlocked.Increment(ref _successes);
                        return;
                    case HttpStatusCode.Conflict:
                        Interlocked.Increment(ref _soldOut);
                        return;
                    case HttpStatusCode.ServiceUnavailable:
                        Interlocked.Increment(ref _unavailable);
                        if (response.Headers.RetryAfter is null) Interlocked.Increment(ref _missingRetryAfter);
                        break;
                    default:
                        Interlocked.Increment(ref _other);
                        return;
                }
            }
            // A killed process can break a connection anywhere, even inside HttpClient's connect
            // (seen once: a bare SocketException "Transport endpoint is not connected"). A client retries.
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or System.Net.Sockets.SocketException)
            {
                Interlocked.Increment(ref _transportErrors);
            }
            await Task.Delay(50 + Random.Shared.Next(100));
        }
    }

    public override string ToString() =>
        $"{Successes} successes, {SoldOut} sold out, {Unavailable} × 503, {TransportErrors} transport errors, {Other} other";
}
