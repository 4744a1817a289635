namespace CouponLive.Campaigns;

/// <summary>An issued coupon in the admin listing; <see cref="Status"/> as in <see cref="Issuance.MyCoupon"/>.</summary>
public sealed record CouponItem(string Code, string UserId, long Sequence, DateTimeOffset IssuedAt, string Status);
