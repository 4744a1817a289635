namespace CouponLive.Codes;

/// <summary>One coupon with its status (issued, redeemed, expired, revoked) and the times of its use.</summary>
public sealed record CouponResponse(
    string Code,
    long CampaignId,
    string UserId,
    long Sequence,
    string Status,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ValidUntil,
    string? OrderId,
    DateTimeOffset? RedeemedAt,
    DateTimeOffset? RedemptionCancelledAt,
    DateTimeOffset? RevokedAt);
