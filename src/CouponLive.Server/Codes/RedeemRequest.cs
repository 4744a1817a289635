namespace CouponLive.Codes;

/// <summary>The order a coupon is redeemed for (or whose redemption is cancelled): 1-100 printable characters.</summary>
public sealed record RedeemRequest(string? OrderId);
