namespace CouponLive.Campaigns;

/// <summary>An issued coupon in the admin listing, with its status (<see cref="CouponStatus"/>).</summary>
public sealed record CouponItem(string Code, string UserId, long Sequence, DateTimeOffset IssuedAt, string Status, string? OrderId, DateTimeOffset? RedeemedAt);
