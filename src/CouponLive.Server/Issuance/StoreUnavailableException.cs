namespace CouponLive.Issuance;

/// <summary>The store could not commit in time: the caller answers 503 and the client retries.</summary>
public sealed class StoreUnavailableException(string message) : Exception(message)
{
    /// <summary>
    /// True for this exception and for a database driver's transient failure (connection refused or lost, a timeout):
    /// any route that meets one while the store is down answers 503 with Retry-After, never 500.
    /// </summary>
    public static bool IsOutage(Exception exception) =>
        exception is StoreUnavailableException or System.Data.Common.DbException { IsTransient: true };
}
