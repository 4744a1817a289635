namespace CouponLive;

/// <summary>
/// This process's clock in whole milliseconds, the precision the stores keep, so every answer about one coupon agrees.
/// It is the gate's clock only in embedded mode (the in-process gate); in production mode the gate's clock is Redis's.
/// </summary>
public static class MillisecondClock
{
    public static DateTimeOffset Now(TimeProvider time) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
}
