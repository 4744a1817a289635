namespace CouponLive.Issuance;

/// <summary>A coupon its holder sees, with its status (issued, redeemed, expired, revoked; see Campaigns.CouponStatus).</summary>
public sealed record MyCoupon(string Code, long CampaignId, string CampaignName, long Sequence, DateTimeOffset IssuedAt, DateTimeOffset? ValidUntil, string Status,
    DateTimeOffset? RedeemedAt);
