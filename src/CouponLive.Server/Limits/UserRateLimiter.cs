using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace CouponLive.Limits;

/// <summary>
/// A token bucket per key (user) in one number: the generic cell rate algorithm keeps, per key, the
/// time at which its bucket would be full again, and a key whose bucket is full is forgotten. A crowd of
/// a million users costs one dictionary entry per user active in the last second or two; the framework's
/// partitioned limiter keeps a limiter object per user for 10 s of idleness and visits each one every
/// 100 ms, which measured 84% of a core and 336 MB at a million users (docs/adr/0010).
/// </summary>
public sealed class UserRateLimiter : PartitionedRateLimiter<string>
{
    private readonly ConcurrentDictionary<string, long> _fullAt = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _interval;   // timestamp ticks per permit
    private readonly long _tolerance;  // burst × interval: how far ahead of now a bucket may run
    private readonly ITimer _sweeper;

    public UserRateLimiter(int burst, double perSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(perSecond, 0);
        _time = time;
        _interval = Math.Max(1, (long)(time.TimestampFrequency / perSecond));
        _tolerance = burst * _interval;
        _sweeper = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Keys remembered now (users whose bucket is not full).</summary>
    public int Count => _fullAt.Count;

    /// <summary>Takes one permit for <paramref name="key"/>, or says how long until one is free.</summary>
    public bool TryAcquire(string key, out TimeSpan retryAfter) => TryAcquire(key, 1, out retryAfter);

    /// <summary>
    /// True when <paramref name="key"/> has a whole permit now, without taking it; otherwise <paramref name="retryAfter"/>
    /// says how long until it has one (what <see cref="TryAcquire(string, out TimeSpan)"/> would answer, minus the charge).
    /// </summary>
    public bool HasPermit(string key, out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        var ahead = _fullAt.TryGetValue(key, out var fullAt) ? Math.Max(0, fullAt - now) : 0;
        var wait = ahead + _interval - _tolerance;
        retryAfter = wait > 0 ? TimeSpan.FromSeconds((double)wait / _time.TimestampFrequency) : TimeSpan.Zero;
        return wait <= 0;
    }

    public override RateLimiterStatistics? GetStatistics(string resource)
    {
        var now = _time.GetTimestamp();
        var ahead = _fullAt.TryGetValue(resource, out var fullAt) ? Math.Max(0, fullAt - now) : 0;
        return new RateLimiterStatistics { CurrentAvailablePermits = (_tolerance - ahead) / _interval };
    }

    protected override RateLimitLease AttemptAcquireCore(string resource, int permitCount) =>
        TryAcquire(resource, permitCount, out var retryAfter) ? KeyedLease.Acquired : new KeyedLease(retryAfter);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(string resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount)); // no queue: a refused request is answered at once

    protected override void Dispose(bool disposing)
    {
        if (disposing) _sweeper.Dispose();
        base.Dispose(disposing);
    }

    private bool TryAcquire(string key, int permits, out TimeSpan retryAfter)
    {
        var now = _time.GetTimestamp();
        var cost = permits * _interval;
        while (true)
        {
            var known = _fullAt.TryGetValue(key, out var fullAt);
            var next = Math.Max(known ? fullAt : now, now) + cost;
            if (next - now > _tolerance)
            {
                retryAfter = TimeSpan.FromSeconds((double)(next - now - _tolerance) / _time.TimestampFrequency);
                return false;
            }
            retryAfter = TimeSpan.Zero;
            if (permits == 0) return true;
            if (known ? _fullAt.TryUpdate(key, next, fullAt) : _fullAt.TryAdd(key, next)) return true;
        }
    }

    /// <summary>Forgets keys whose bucket has refilled: to them the next request is a first one.</summary>
    private void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var entry in _fullAt)
            if (entry.Value <= now) _fullAt.TryRemove(entry); // only if unchanged since read
    }
}
