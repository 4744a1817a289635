namespace CouponLive.Issuance;

/// <summary>The store could not commit in time: the caller answers 503 and the client retries.</summary>
public sealed class StoreUnavailableException(string message) : Exception(message);
