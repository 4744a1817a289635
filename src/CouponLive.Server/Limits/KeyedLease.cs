using System.Threading.RateLimiting;

namespace CouponLive.Limits;

/// <summary>The answer of <see cref="UserRateLimiter"/>: acquired (one shared instance), or refused with when to retry.</summary>
public sealed class KeyedLease : RateLimitLease
{
    public static readonly KeyedLease Acquired = new(null);

    private readonly TimeSpan? _retryAfter;

    public KeyedLease(TimeSpan? retryAfter) => _retryAfter = retryAfter;

    public override bool IsAcquired => _retryAfter is null;

    public override IEnumerable<string> MetadataNames => _retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = _retryAfter;
        return _retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
    }
}
