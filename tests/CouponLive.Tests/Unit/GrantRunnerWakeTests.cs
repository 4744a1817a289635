using System.Diagnostics;
using CouponLive.Grants;
using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CouponLive.Tests.Unit;

/// <summary>
/// Waking the grant runner is safe from any number of threads at once, while it wakes and sleeps (each grant
/// created wakes it; a check-then-release on a semaphore once let the second of two wakes throw).
/// </summary>
public sealed class GrantRunnerWakeTests
{
    [Fact]
    public async Task Waking_it_from_many_threads_while_it_runs_never_throws()
    {
        // A real runner over an empty SQLite store: it lists no grants, waits for a wake, and lists again, so each
        // wake is consumed as fast as it comes. With no grants it never uses the gate, the writer or the codec.
        var directory = Directory.CreateTempSubdirectory("couponlive-wake-").FullName;
        var store = new SqliteCouponStore(Path.Combine(directory, "couponlive.db"));
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        using var runner = new GrantRunner(store, null!, null!, null!, null!, null!, Options.Create(new GrantOptions()), Options.Create(new IssuanceOptions()),
            TimeProvider.System, NullLogger<GrantRunner>.Instance);
        await runner.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
            var wakes = 0L;
            Parallel.For(0, 4, _ =>
            {
                while (Stopwatch.GetTimestamp() < until)
                {
                    runner.Wake();
                    Interlocked.Increment(ref wakes);
                }
            });
            Assert.True(wakes > 0);
            Assert.False(runner.ExecuteTask!.IsFaulted, runner.ExecuteTask.Exception?.ToString());
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
