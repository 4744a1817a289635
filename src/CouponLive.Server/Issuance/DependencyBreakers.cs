using System.Diagnostics.Metrics;
using CouponLive.Diagnostics;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace CouponLive.Issuance;

/// <summary>The circuit breakers of the issue path, one per dependency, and their state as a gauge.</summary>
public sealed class DependencyBreakers : IDisposable
{
    public DependencyBreakers(IOptions<BreakerOptions> options, ServerSettings settings, TimeProvider time, CouponMetrics metrics, ILogger<DependencyBreaker> logger)
    {
        // A commit the rows themselves made fail (a trigger's error, a bad value) says nothing about the store: it is the
        // writer's to isolate, and must not open the circuit for every campaign.
        Store = new DependencyBreaker("store", options.Value, time, logger, failure => !Storage.StoreErrors.IsRowCaused(failure));
        Redis = new DependencyBreaker("redis", options.Value, time, logger, _ => true);
        DependencyBreaker[] used = settings.IsProduction ? [Store, Redis] : [Store];
        metrics.Observe("couponlive.circuit.state", "{state}", "Circuit of each dependency: 0 closed, 1 open, 2 half-open",
            () => used.Select(b => new Measurement<long>(StateValue(b.State), CouponMetrics.Tag("dependency", b.Name))));
    }

    /// <summary>The store's commits: open, issue requests are refused before the gate admits anyone.</summary>
    public DependencyBreaker Store { get; }

    /// <summary>Redis's admission calls (production mode): open, the gate answers 503 without calling.</summary>
    public DependencyBreaker Redis { get; }

    public void Dispose()
    {
        Store.Dispose();
        Redis.Dispose();
    }

    private static long StateValue(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 2,
        _ => 1,
    };
}
