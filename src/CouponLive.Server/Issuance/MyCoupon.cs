namespace CouponLive.Issuance;

/// <summary>A coupon its holder sees; <see cref="Status"/> is "issued", or "revoked" once its campaign was cancelled with its coupons.</summary>
public sealed record MyCoupon(string Code, long CampaignId, string CampaignName, long Sequence, DateTimeOffset IssuedAt, DateTimeOffset? ValidUntil, string Status);
