using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace CouponLive.Limits;

/// <summary>
/// Failed logins per login id (System.Threading.RateLimiting token buckets): guessing one account's
/// password is slowed to a few tries a minute, from any number of addresses. Only failures count, so the
/// account's owner logging in is never held back by their own successes.
/// </summary>
public sealed class LoginFailureLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures;

    public LoginFailureLimiter(IOptions<RateLimitOptions> options)
    {
        var o = options.Value;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = o.LoginFailuresPerIdBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1 / o.LoginFailuresPerIdPerMinute),
            QueueLimit = 0,
            AutoReplenishment = false, // the partitioned limiter's timer refills them; no timer per login id
        };
        _failures = PartitionedRateLimiter.Create<string, string>(
            id => o.Enabled ? RateLimitPartition.GetTokenBucketLimiter(id, _ => bucket) : RateLimitPartition.GetNoLimiter(id),
            StringComparer.Ordinal);
        Period = bucket.ReplenishmentPeriod;
    }

    private TimeSpan Period { get; }

    /// <summary>True when the login id has no whole try left; <paramref name="retryAfter"/> is at most the time one takes to refill.</summary>
    public bool IsBlocked(string loginId, out TimeSpan retryAfter)
    {
        // Statistics, not a zero-permit lease: the bucket refills in fractions, and a fraction is not a try.
        retryAfter = Period;
        return _failures.GetStatistics(loginId) is { CurrentAvailablePermits: < 1 };
    }

    public void RecordFailure(string loginId) => _failures.AttemptAcquire(loginId).Dispose();

    public void Dispose() => _failures.Dispose();
}
