using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// A bounded crowd: each user clicks a number of times, retrying a click on another server when it
/// gets no answer, a 503 or a load balancer's 502/504, until a definitive answer (201, 200, 409) or the
/// attempt/time budget ends. Every success answer is recorded so tests can check that each one has its
/// row (I5), with when its request was sent, so a drill can tell how soon service came back after a fault.
/// </summary>
public sealed class SaleDriver(IReadOnlyList<Uri> servers, long campaignId, string userPrefix)
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _codesByUser = new();
    private readonly ConcurrentQueue<string> _otherAnswers = new();
    private readonly ConcurrentQueue<(long Sent, long Answered)> _successTimes = new();
    private readonly ConcurrentQueue<(long Sent, long Answered)> _unavailableTimes = new();
    private readonly ConcurrentDictionary<string, int> _conflicts = new();
    private int _successes, _soldOut, _paused, _unavailable, _badGateway, _transportErrors, _other, _missingRetryAfter;

    public int Successes => Volatile.Read(ref _successes);
    /// <summary>409 answers other than campaign.paused (sold out, not open, ended...): they end a click.</summary>
    public int SoldOut => Volatile.Read(ref _soldOut);
    /// <summary>409 campaign.paused answers; the click is retried.</summary>
    public int Paused => Volatile.Read(ref _paused);
    /// <summary>The 409 answers that ended a click, by code.</summary>
    public IReadOnlyDictionary<string, int> Conflicts => _conflicts;
    public int Unavailable => Volatile.Read(ref _unavailable);
    /// <summary>502 and 504 answers: a load balancer found no live process in time (retried).</summary>
    public int BadGateway => Volatile.Read(ref _badGateway);
    public int TransportErrors => Volatile.Read(ref _transportErrors);
    public int Other => Volatile.Read(ref _other);
    /// <summary>503 answers without a Retry-After header (there should be none).</summary>
    public int MissingRetryAfter => Volatile.Read(ref _missingRetryAfter);

    /// <summary>How many users have been told a code so far.</summary>
    public int Winners => _codesByUser.Count;

    /// <summary>Every code each user was told it holds (from 201 and 200 answers).</summary>
    public IReadOnlyDictionary<string, string[]> CodesByUser => _codesByUser.ToDictionary(kv => kv.Key, kv => kv.Value.Distinct().ToArray());

    public string UserId(int index) => $"{userPrefix}-{index}";

    /// <summary>
    /// How long one request may take before the client gives up (a transport error, retried). A drill with a long
    /// commit timeout sets it longer, so a request that waits out the server's timeout is seen, not cut off.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs the crowd: <paramref name="concurrency"/> clicks at a time; with <paramref name="pause"/>, each
    /// click holds its place that much longer, which caps the rate at concurrency / pause (a longer sale).
    /// </summary>
    public async Task RunAsync(int users, int clicks, int concurrency, TimeSpan budget, int maxAttemptsPerClick = 60, TimeSpan pause = default)
    {
        var deadline = DateTime.UtcNow + budget;
        using var limiter = new SemaphoreSlim(concurrency);
        var clients = servers.Select(s => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency })
        {
            BaseAddress = s,
            Timeout = RequestTimeout,
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
                        if (pause > TimeSpan.Zero) await Task.Delay(pause);
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
            var sent = Stopwatch.GetTimestamp();
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
                        _successTimes.Enqueue((sent, Stopwatch.GetTimestamp()));
                        return;
                    case HttpStatusCode.Conflict:
                        // A paused campaign is asked again, as a client app polls until it resumes; any other 409 ends the click.
                        var code = JsonNode.Parse(await response.Content.ReadAsStringAsync())?["code"]?.GetValue<string>();
                        if (code == "campaign.paused")
                        {
                            Interlocked.Increment(ref _paused);
                            break;
                        }
                        Interlocked.Increment(ref _soldOut);
                        _conflicts.AddOrUpdate(code ?? "", 1, (_, n) => n + 1);
                        return;
                    case HttpStatusCode.ServiceUnavailable:
                        Interlocked.Increment(ref _unavailable);
                        _unavailableTimes.Enqueue((sent, Stopwatch.GetTimestamp()));
                        if (response.Headers.RetryAfter is null) Interlocked.Increment(ref _missingRetryAfter);
                        break;
                    case HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout:
                        Interlocked.Increment(ref _badGateway);
                        break;
                    default:
                        Interlocked.Increment(ref _other);
                        if (_otherAnswers.Count < 5) _otherAnswers.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
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

    /// <summary>From <paramref name="fault"/> (a Stopwatch timestamp) to the first success answer of a request sent after it.</summary>
    public TimeSpan? FirstSuccessAfter(long fault)
    {
        var first = _successTimes.Where(t => t.Sent >= fault).Select(t => t.Answered).DefaultIfEmpty(long.MaxValue).Min();
        return first == long.MaxValue ? null : Stopwatch.GetElapsedTime(fault, first);
    }

    /// <summary>How long each 503 took to arrive, for requests sent between two Stopwatch timestamps, in ms, sorted.</summary>
    public double[] UnavailableLatenciesMs(long from, long to) =>
        _unavailableTimes.Where(t => t.Sent >= from && t.Sent < to)
            .Select(t => Stopwatch.GetElapsedTime(t.Sent, t.Answered).TotalMilliseconds).Order().ToArray();

    public override string ToString() =>
        $"{Successes} successes, {SoldOut} × 409 ({string.Join(", ", _conflicts.Select(c => $"{c.Key} {c.Value}"))}), {Paused} paused, {Unavailable} × 503, {BadGateway} × 502/504, {TransportErrors} transport errors, {Other} other" +
        (_otherAnswers.IsEmpty ? "" : $" (first: {string.Join(" | ", _otherAnswers)})");
}
