namespace CouponLive.Limits;

/// <summary>
/// The authentication failure of an issue request refused by <see cref="IssueAuthFailureLimiter"/> before its token was
/// looked at: the transports answer it 429 (RESOURCE_EXHAUSTED) with <see cref="RetryAfter"/>, not 401.
/// </summary>
public sealed class IssueAuthRateLimitedException(TimeSpan retryAfter)
    : Exception("Too many issue requests with a missing or invalid token from this address; retry later with a valid token.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
