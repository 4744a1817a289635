namespace CouponLive.Issuance;

/// <summary>The gate's clock, in whole milliseconds: the precision the store keeps, so every answer about one coupon agrees.</summary>
public static class GateClock
{
    public static DateTimeOffset Now(TimeProvider time) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
}
