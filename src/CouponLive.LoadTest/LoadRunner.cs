using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace CouponLive.LoadTest;

/// <summary>
/// Prepares an event (campaign, tokens), drives one scenario against it, checks the invariants in
/// the database and writes the report. Tests call <see cref="RunAsync(LoadOptions, TextWriter, CancellationToken)"/> directly; the CLI wraps it.
/// </summary>
public sealed class LoadRunner : IDisposable
{
    private static readonly byte[] CodeProperty = "\"code\":\""u8.ToArray();

    private readonly LoadOptions _o;
    private readonly TextWriter _log;
    private readonly HttpClient[] _clients; // preparation only (admin login, campaign)
    private LoadUser[] _users = [];
    private byte[][] _issuePaths = [];
    private IssueConnection[] _connections = []; // Connections per target, target = index % targets
    private RunStats _stats = null!;
    private CancellationToken _stop;
    private long _next;

    private LoadRunner(LoadOptions options, TextWriter log)
    {
        _o = options;
        _log = log;
        _clients = options.Targets.Select(t => new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = t,
            Timeout = options.RequestTimeout,
        }).ToArray();
    }

    public void Dispose()
    {
        foreach (var c in _clients) c.Dispose();
        foreach (var c in _connections) c.Dispose();
    }

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter log, CancellationToken ct = default)
    {
        options.Validate();
        using var runner = new LoadRunner(options, log);
        return await runner.RunAsync(ct);
    }

    private async Task<LoadResult> RunAsync(CancellationToken ct)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var prefix = _o.UserPrefix ?? "lt" + startedAt.ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);
        var mintWatch = Stopwatch.StartNew();
        _users = _o.TokenFile is not null
            ? Tokens.Read(_o.TokenFile, _o.Users)
            : Tokens.Mint(_o.SigningKey!, prefix, _o.Users, _o.Issuer, _o.Audience, _o.TokenLifetime);
        _log.WriteLine($"crowd: {_users.Length:N0} users ({(_o.TokenFile is null ? "minted" : "from " + _o.TokenFile)} in {mintWatch.ElapsedMilliseconds} ms)");

        var (campaignId, quantity, opensAt) = await PrepareCampaignAsync(ct);
        _issuePaths = _o.Targets.Select(t => Encoding.ASCII.GetBytes(new Uri(t, $"/api/v1/campaigns/{campaignId}/issue").PathAndQuery)).ToArray();

        // Stopped by the caller, or by the run's cap (set when the run starts).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _stop = stop.Token;
        _connections = Enumerable.Range(0, _o.Connections * _o.Targets.Count)
            .Select(i => new IssueConnection(_o.Targets[i % _o.Targets.Count], _o.RequestTimeout, _stop)).ToArray();

        var plan = BuildPlan();
        if (_o.Warmup) await WarmUpAsync();

        // Wait for the opening instant (bounded by the start offset the caller chose).
        var wait = opensAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            _log.WriteLine($"waiting {wait.TotalSeconds:F1} s for the window to open at {opensAt:HH:mm:ss.fff}");
            await Task.Delay(wait, ct);
        }

        var cap = _o.Scenario == Scenario.Rate ? Min(_o.Duration + _o.RequestTimeout + TimeSpan.FromSeconds(1), _o.MaxDuration) : _o.MaxDuration;
        _stats = new RunStats(_users.Length, quantity, (int)Math.Ceiling(cap.TotalSeconds) + 2);
        stop.CancelAfter(cap);

        _log.WriteLine(_o.Scenario == Scenario.Stampede
            ? $"stampede: {plan.Length:N0} requests, {_o.Connections} connections x {_o.Targets.Count} target(s), campaign {campaignId} ({quantity:N0} coupons)"
            : $"rate: {_o.Rate:N0} requests/s for {_o.Duration.TotalSeconds:N0} s, campaign {campaignId} ({quantity:N0} coupons)");
        // The queue's consumer reads through the run, as a live downstream does (its CPU counts in the tool's).
        await using var consumer = _o.RabbitMq is { } rabbit ? await QueueConsumer.StartAsync(rabbit, _o.EventsQueue!, ct) : null;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        _stats.StartTimestamp = Stopwatch.GetTimestamp();
        var run = _o.Scenario == Scenario.Stampede ? StampedeAsync(plan) : RateAsync(plan);
        var stoppedBy = await WithProgressAsync(run);
        var elapsed = _stats.LastCompletedAfter;
        // The tool shares the machine with the server: its own cost per request tells how much it took.
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        var check = await InvariantCheck.RunAsync(_o, campaignId, quantity, _users, _stats, consumer, ct);
        var report = LoadReport.Build(_o, _stats, campaignId, quantity, _users.Length, plan.Length, startedAt, elapsed, stoppedBy, clientCpu, check);
        var (json, html) = await ReportWriter.WriteAsync(report, _o.OutputDirectory, ct);
        _log.WriteLine(report.Summary());
        _log.WriteLine($"report: {json}");
        _log.WriteLine($"report: {html}");
        return new LoadResult(report, json, html);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // ------------------------------------------------------------------ preparation

    private async Task<(long Id, int Quantity, DateTimeOffset OpensAt)> PrepareCampaignAsync(CancellationToken ct)
    {
        var client = _clients[0];
        if (_o.CampaignId is { } existing)
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{existing}");
            get.Headers.TryAddWithoutValidation("Authorization", _users[0].Bearer);
            using var response = await client.SendAsync(get, ct);
            var body = await ReadObjectAsync(response, "reading the campaign", ct);
            return (existing, body["totalQuantity"]!.GetValue<int>(), DateTimeOffset.UtcNow);
        }

        using (var login = await client.PostAsJsonAsync("/api/v1/auth/token", new { loginId = _o.AdminLogin, password = _o.AdminPassword }, ct))
        {
            var token = (await ReadObjectAsync(login, "admin login", ct))["accessToken"]!.GetValue<string>();
            var opensAt = DateTimeOffset.UtcNow + _o.StartIn;
            opensAt = opensAt.AddTicks(-(opensAt.Ticks % TimeSpan.TicksPerMillisecond)); // the store keeps milliseconds
            var name = _o.CampaignName ?? $"loadtest-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss-fff}";
            using var create = new HttpRequestMessage(HttpMethod.Post, "/api/v1/campaigns")
            {
                Content = JsonContent.Create(new
                {
                    name,
                    totalQuantity = _o.Quantity,
                    issueStartsAt = opensAt.ToString("O", CultureInfo.InvariantCulture),
                    issueEndsAt = (opensAt + _o.Window).ToString("O", CultureInfo.InvariantCulture),
                }),
            };
            create.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var created = await client.SendAsync(create, ct);
            var campaign = await ReadObjectAsync(created, "creating the campaign", ct);
            var id = campaign["id"]!.GetValue<long>();
            _log.WriteLine($"campaign {id} '{name}': {_o.Quantity:N0} coupons, window {opensAt:HH:mm:ss.fff} + {_o.Window.TotalSeconds:N0} s");
            return (id, _o.Quantity, opensAt);
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{what} failed: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>
    /// The order in which users click: everyone once, shuffled; a share of them clicks a second time
    /// within the next ~2C requests (a double click while the first is in flight, or a quick retry).
    /// </summary>
    private int[] BuildPlan()
    {
        var random = new Random(_o.Seed);
        var n = _users.Length;
        var keyed = new List<(double Key, int User)>(n + (int)(n * _o.RetryShare) + 1);
        var order = Enumerable.Range(0, n).ToArray();
        random.Shuffle(order);
        for (var p = 0; p < n; p++)
        {
            keyed.Add((p, order[p]));
            if (random.NextDouble() < _o.RetryShare) keyed.Add((p + 0.5 + (random.NextDouble() * 2 * _o.Connections), order[p]));
        }
        keyed.Sort((a, b) => a.Key.CompareTo(b.Key));
        var length = (int)Math.Min(keyed.Count, _o.Scenario == Scenario.Rate ? keyed.Count : _o.MaxRequests);
        var plan = new int[length];
        for (var i = 0; i < length; i++) plan[i] = keyed[i].User;
        return plan;
    }

    /// <summary>Opens the connections before the window, so the stampede measures the service, not TCP handshakes.</summary>
    private async Task WarmUpAsync()
    {
        var path = "/health/live"u8.ToArray();
        await Task.WhenAll(_connections.Select(c => Task.Run(async () =>
        {
            try
            {
                await c.GetAsync(path, new byte[256]);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException)
            {
                // The run itself will report unreachable targets.
            }
        })));
    }

    // ------------------------------------------------------------------ scenarios

    private async Task<string> StampedeAsync(int[] plan)
    {
        var workers = new Task[_connections.Length];
        for (var w = 0; w < workers.Length; w++)
        {
            var connection = w;
            workers[w] = Task.Run(async () =>
            {
                var buffer = new byte[4096];
                while (!_stop.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref _next) - 1;
                    if (i >= plan.Length) return;
                    await SendAsync(connection, plan[i], Stopwatch.GetTimestamp(), buffer);
                }
            });
        }
        await Task.WhenAll(workers);
        return _stop.IsCancellationRequested ? "max-duration" : "plan done";
    }

    /// <summary>
    /// Open model: request i is due at start + i/R whether or not earlier ones were answered; its
    /// latency counts from that intended time, so a stalled server shows up (no coordinated omission).
    /// Requests are sent from a dedicated thread that naps 1 ms between bursts: it wakes within about
    /// 0.1 ms, where Task.Delay(1) (timer queue, then thread pool) added ~3 ms to the measured p50.
    /// </summary>
    private async Task<string> RateAsync(int[] plan)
    {
        var freq = Stopwatch.Frequency;
        var start = _stats.StartTimestamp;
        var total = (long)Math.Min(_o.Rate * _o.Duration.TotalSeconds, _o.MaxRequests);
        using var slots = new SemaphoreSlim(_o.MaxInFlight, _o.MaxInFlight);
        // Free connections per target: a request due while all are busy waits for one, and that wait counts in its latency.
        var free = _o.Targets.Select(_ => Channel.CreateUnbounded<int>()).ToArray();
        for (var c = 0; c < _connections.Length; c++) free[c % free.Length].Writer.TryWrite(c);
        long i = 0;
        var stoppedBy = "duration";
        var dispatcher = new Thread(() =>
        {
            try
            {
                while (i < total)
                {
                    var due = Math.Min(total, (long)((Stopwatch.GetTimestamp() - start) * _o.Rate / freq) + 1);
                    for (; i < due; i++)
                    {
                        var intended = start + (long)(i * freq / _o.Rate);
                        slots.Wait(_stop);
                        var user = plan[(int)(i % plan.Length)];
                        _ = SendRateAsync(free[i % free.Length], user, intended, slots);
                    }
                    if (i < total && start + (long)(i * freq / _o.Rate) > Stopwatch.GetTimestamp()) Thread.Sleep(1);
                }
            }
            catch (OperationCanceledException)
            {
                stoppedBy = "max-duration";
            }
        })
        { IsBackground = true, Name = "rate dispatcher" };
        dispatcher.Start();
        while (dispatcher.IsAlive) await Task.Delay(50, CancellationToken.None);

        // Drain: outstanding requests end by their own timeout; bounded anyway.
        var drainUntil = DateTime.UtcNow + _o.RequestTimeout + TimeSpan.FromSeconds(2);
        while (slots.CurrentCount < _o.MaxInFlight && DateTime.UtcNow < drainUntil) await Task.Delay(10, CancellationToken.None);
        return i >= _o.MaxRequests ? "max-requests" : stoppedBy;
    }

    private async Task SendRateAsync(Channel<int> free, int user, long intended, SemaphoreSlim slots)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var connection = await free.Reader.ReadAsync(_stop);
            try
            {
                await SendAsync(connection, user, intended, buffer);
            }
            finally
            {
                free.Writer.TryWrite(connection);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _stats.Record(Outcome.CutOff, user, null, intended, Stopwatch.GetTimestamp(), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            slots.Release();
        }
    }

    /// <summary>One issue request: pre-minted header, no JSON parsing, only the "code" property is read.</summary>
    private async Task SendAsync(int connection, int user, long intended, byte[] buffer)
    {
        Outcome outcome;
        string? code = null, errorKind = null;
        try
        {
            var answer = await _connections[connection].PostAsync(_issuePaths[connection % _issuePaths.Length], _users[user].Bearer, buffer);
            var value = CodeValue(buffer.AsSpan(0, answer.BodyLength));
            var status = answer.Status;
            switch (status)
            {
                case 201 or 200:
                    outcome = status == 201 ? Outcome.Issued : Outcome.AlreadyIssued;
                    code = Encoding.UTF8.GetString(value);
                    break;
                case 409:
                    outcome = value.SequenceEqual("campaign.sold_out"u8) ? Outcome.SoldOut
                        : value.SequenceEqual("campaign.window_sold_out"u8) ? Outcome.WindowSoldOut
                        : value.SequenceEqual("campaign.not_open"u8) ? Outcome.NotOpen
                        : value.SequenceEqual("campaign.ended"u8) ? Outcome.Ended
                        : Outcome.HttpError;
                    if (outcome == Outcome.HttpError) errorKind = "409 " + Encoding.UTF8.GetString(value);
                    break;
                case 503:
                    outcome = Outcome.Unavailable;
                    errorKind = "503 service.unavailable";
                    break;
                case 429:
                    outcome = Outcome.RateLimited;
                    errorKind = "429 issue.rate_limited";
                    break;
                default:
                    outcome = Outcome.HttpError;
                    errorKind = $"{status} {Encoding.UTF8.GetString(value)}".TrimEnd();
                    break;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            outcome = Outcome.CutOff;
        }
        catch (TimeoutException)
        {
            outcome = Outcome.Timeout;
            errorKind = "timeout";
        }
        catch (SocketException ex)
        {
            outcome = Outcome.TransportError;
            errorKind = "transport " + ex.SocketErrorCode;
        }
        catch (IOException ex)
        {
            outcome = Outcome.TransportError;
            errorKind = "transport " + ex.Message;
        }
        _stats.Record(outcome, user, code, intended, Stopwatch.GetTimestamp(), errorKind);
    }

    /// <summary>The raw value of the first "code" property (the coupon code, or the problem's error code).</summary>
    private static ReadOnlySpan<byte> CodeValue(ReadOnlySpan<byte> body)
    {
        var at = body.IndexOf(CodeProperty);
        if (at < 0) return default;
        var rest = body[(at + CodeProperty.Length)..];
        var end = rest.IndexOf((byte)'"');
        return end < 0 ? default : rest[..end];
    }

    // ------------------------------------------------------------------ progress

    private async Task<string> WithProgressAsync(Task<string> run)
    {
        var last = 0L;
        var lastAt = Stopwatch.GetTimestamp();
        while (!run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(1000, CancellationToken.None));
            if (_o.Quiet) continue;
            var now = Stopwatch.GetTimestamp();
            var done = _stats.Completed;
            var rate = (done - last) * (double)Stopwatch.Frequency / Math.Max(1, now - lastAt);
            (last, lastAt) = (done, now);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(now - _stats.StartTimestamp) / (double)Stopwatch.Frequency,6:F1} s  {rate,9:N0} req/s  issued {_stats.Count(Outcome.Issued),8:N0}  " +
                $"sold-out {_stats.Count(Outcome.SoldOut) + _stats.Count(Outcome.WindowSoldOut),9:N0}  duplicates {_stats.Count(Outcome.AlreadyIssued),7:N0}  " +
                $"errors {_stats.Errors,6:N0}  p99 {(_stats.Completed == 0 ? 0 : _stats.Latency.GetValueAtPercentile(99)) / 1000.0,8:F2} ms"));
        }
        return await run;
    }
}
