namespace CouponLive.Issuance;

public sealed record MyCoupons(IReadOnlyList<MyCoupon> Items);
