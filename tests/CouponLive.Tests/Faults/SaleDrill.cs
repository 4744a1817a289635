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

    protected async Task<IReadOnlyList<ServerProcess>> StartServersAsync(int count, Dictionary<string, string>? settings = null, bool grpc = false)
    {
        var started = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ServerProcess.StartAsync(State, settings, grpc)));
        _servers.AddRange(started);
        return started;
    }

    protected static Task<long> CreateCampaignAsync(Uri server, int quantity) => TestCampaigns.CreateAsync(server, quantity);

    /// <summary>The Redis key of a campaign's gate meta hash (to find its slot and node).</summary>
    protected string MetaKey(long campaignId) => $"{State.RedisPrefix}:{{c:{campaignId}}}:meta";

    /// <summary>Waits (bounded) for the reconciler to land admissions whose process died, then checks everything.</summary>
    protected async Task<InvariantReport> AssertOutcomeAsync(long campaignId, SaleDriver driver, bool expectSoldOut = true)
    {
        var store = OpenStore();
        await using var closing = (IAsyncDisposable)store;
        var report = await store.CheckInvariantsAsync(campaignId, default);
        var deadline = DateTime.UtcNow.AddSeconds(20);
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
