using System.Diagnostics;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>
/// What every drill needs: production-mode server processes over a fresh database, a campaign, a fault at
/// a chosen moment of the sale, and the check afterwards, from the database, that I1-I6 hold and every
/// success answer has its row with the same code.
/// </summary>
public abstract class SaleDrill : IAsyncLifetime
{
    private readonly List<ServerProcess> _servers = [];
    private readonly List<IAsyncDisposable> _resources = [];

    protected ServerState State { get; private set; } = null!;

    /// <summary>Production mode on PostgreSQL; a subclass may run the same drills on MySQL.</summary>
    protected virtual ServerMode Mode => ServerMode.Production;

    /// <summary>The SQL store's name in scripts/services.sh (stop-postgres, start-mysql...).</summary>
    protected string StoreService => Mode == ServerMode.ProductionMySql ? "mysql" : "postgres";

    public virtual async ValueTask InitializeAsync() => State = await CouponLiveServer.NewStateAsync(Mode);

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        for (var i = _resources.Count - 1; i >= 0; i--) await _resources[i].DisposeAsync();
        await State.DropDatabaseAsync();
    }

    /// <summary>Disposed after the servers, in reverse order of adding.</summary>
    protected T Own<T>(T resource) where T : IAsyncDisposable
    {
        _resources.Add(resource);
        return resource;
    }

    /// <summary>Runs on a Redis topology of the drill's own instead of the shared test Redis.</summary>
    protected void UseRedis(RedisTopology topology) => State = State with { Redis = topology.ConnectionString };

    /// <summary>Runs on the shared test Redis with these client options added (e.g. "asyncTimeout=10000").</summary>
    protected void UseRedisOptions(string options) => State = State with { Redis = State.RedisConnection + "," + options };

    /// <summary>The reasons the issue path sheds a request (answers 503 at once instead of waiting), as /metrics labels them.</summary>
    protected static readonly string[] ShedReasons = ["store_circuit_open", "redis_circuit_open", "writer_queue_full", "gate_queue_full"];

    /// <summary>Issue requests shed so far, by reason, summed over the processes' /metrics.</summary>
    protected static async Task<Dictionary<string, double>> ShedAsync(IEnumerable<ServerProcess> servers)
    {
        var addresses = servers.Select(s => s.BaseAddress).ToList();
        var shed = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var reason in ShedReasons) shed[reason] = await PrometheusText.SumAsync(addresses, "couponlive_issue_shed_total", ("reason", reason));
        return shed;
    }

    /// <summary>
    /// Checks that a dependency's outage was shed by its circuit breaker rather than waited out: the requests the
    /// breaker shed (from /metrics, <paramref name="shedBefore"/> to now) are at most the 503s the crowd heard (each
    /// shed request is one of them) and most of them (the rest: requests caught waiting when the circuit opened, and
    /// in the moments it probes); and no 503 came anywhere near <paramref name="timeout"/>, the longest wait the path
    /// could have had. Prints the figures; returns the 503 latencies (ms, sorted) for the drill's own log.
    /// </summary>
    protected static async Task<double[]> AssertShedByTheBreakerAsync(
        IReadOnlyList<ServerProcess> servers, Dictionary<string, double> shedBefore, string reason, SaleDriver driver, TimeSpan timeout, string drill)
    {
        var shedAfter = await ShedAsync(servers);
        var shed = ShedReasons.ToDictionary(r => r, r => shedAfter[r] - shedBefore[r], StringComparer.Ordinal);
        var byBreaker = shed[reason];
        var latencies = driver.UnavailableLatenciesMs(0, long.MaxValue);
        var slowest = latencies.Length == 0 ? 0 : latencies[^1];
        TestContext.Current.SendDiagnosticMessage(
            $"drill {drill}: {driver.Unavailable} x 503, of them shed at once: {string.Join(", ", shed.Where(s => s.Value > 0).Select(s => $"{s.Key} {s.Value}"))}; " +
            $"503 latency p50 {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, max {slowest:F1} ms (bound {timeout.TotalMilliseconds / 2:F0} ms)");
        Assert.True(byBreaker > 0, $"the breaker shed nothing ({reason}): {driver}");
        Assert.True(byBreaker <= driver.Unavailable, $"{byBreaker} shed by the breaker but the crowd heard only {driver.Unavailable} x 503: {driver}");
        Assert.True(byBreaker * 2 > driver.Unavailable, $"most 503s must be the breaker's: {byBreaker} of {driver.Unavailable}; {driver}");
        Assert.True(slowest < timeout.TotalMilliseconds / 2, $"a 503 took {slowest:F0} ms, near the {timeout.TotalSeconds:F0} s timeout: waited out, not shed; {driver}");
        return latencies;
    }

    protected static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    protected async Task<IReadOnlyList<ServerProcess>> StartServersAsync(int count, Dictionary<string, string>? settings = null, bool grpc = false)
    {
        var started = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ServerProcess.StartAsync(State, settings, grpc)));
        _servers.AddRange(started);
        return started;
    }

    protected static Task<long> CreateCampaignAsync(Uri server, int quantity) => TestCampaigns.CreateAsync(server, quantity);

    /// <summary>The Redis key of a campaign's gate meta hash (to find its slot and node).</summary>
    protected string MetaKey(long campaignId) => $"{State.RedisPrefix}:{{c:{campaignId}}}:meta";

    /// <summary>Waits (bounded generously: 60 s) for the reconciler to land admissions whose process died, then checks everything.</summary>
    protected async Task<InvariantReport> AssertOutcomeAsync(long campaignId, SaleDriver driver, bool expectSoldOut = true)
    {
        var store = OpenStore();
        await using var closing = (IAsyncDisposable)store;
        var report = await store.CheckInvariantsAsync(campaignId, default);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (expectSoldOut && !report.SoldExactly && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            report = await store.CheckInvariantsAsync(campaignId, default);
        }
        Assert.True(report.Violations().Count == 0, report.ToString());
        Assert.True(driver.MissingRetryAfter == 0, $"every 503 must say when to retry: {driver}");
        if (expectSoldOut) Assert.True(report.SoldExactly, $"{report}; driver: {driver}");

        // I5: every success answer corresponds to a stored row with the same code; each user heard one code.
        var stored = (await store.ListCouponsAsync(campaignId, 0, 100_000, CouponFilter.All, default)).ToDictionary(c => c.UserId, c => c.Code);
        foreach (var (user, codes) in driver.CodesByUser)
        {
            var code = Assert.Single(codes);
            Assert.True(stored.TryGetValue(user, out var row), $"{user} was told {code} but has no row");
            Assert.Equal(row, code);
        }
        return report;
    }

    /// <summary>A store of its own on the drill's database, as a tool reading it from outside would have (dispose it).</summary>
    protected ICouponStore OpenStore() => State.MySql is { } mysql ? MySqlCouponStore.Open(mysql) : PostgresCouponStore.Open(State.Postgres!);

    /// <summary>Runs the fault once the driver has seen <paramref name="successes"/>; the success count and the time at the fault.</summary>
    protected static async Task<Fault> WhenAsync(SaleDriver driver, int successes, Func<Task> fault, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (driver.Successes < successes && DateTime.UtcNow < deadline) await Task.Delay(5);
        var atFault = new Fault(driver.Successes, Stopwatch.GetTimestamp());
        await fault();
        return atFault;
    }

    /// <summary>Prints how soon the sale served again after the fault (in the test log), and returns it.</summary>
    protected static TimeSpan ReportRecovery(string drill, SaleDriver driver, Fault fault)
    {
        var recovery = driver.FirstSuccessAfter(fault.At);
        Assert.True(recovery is not null, $"no request sent after the fault succeeded: {driver}");
        TestContext.Current.SendDiagnosticMessage(
            $"drill {drill}: first success {recovery.Value.TotalSeconds:F2} s after the fault; {driver}");
        return recovery.Value;
    }

    protected readonly record struct Fault(int Successes, long At);
}
