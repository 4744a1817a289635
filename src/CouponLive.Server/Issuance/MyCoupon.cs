namespace CouponLive.Issuance;

public sealed record MyCoupon(string Code, long CampaignId, string CampaignName, long Sequence, DateTimeOffset IssuedAt, DateTimeOffset? ValidUntil);
