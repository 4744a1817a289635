namespace CouponLive.Issuance;

/// <summary>The store could not commit in time: the caller answers 503 and the client retries.</summary>
public sealed class StoreUnavailableException(string message) : Exception(message)
{
    /// <summary>
    /// True when a dependency (the store or Redis) is unavailable now: any route that meets one answers 503 with
    /// Retry-After, never 500. The rule lives in <see cref="DependencyOutage"/>; kept for existing callers.
    /// </summary>
    public static bool IsOutage(Exception exception) => DependencyOutage.Is(exception);
}
