namespace CouponLive.Storage;

/// <summary>
/// The answer of a conditional change of one coupon (redeem, cancel a redemption, revoke): whether this call
/// changed it, and the coupon as stored afterwards (null when no such coupon exists).
/// </summary>
public sealed record CouponChange(bool Changed, IssuedCoupon? Coupon);
