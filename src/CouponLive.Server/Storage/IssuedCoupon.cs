namespace CouponLive.Storage;

/// <summary>A coupon as stored. The code is derived from (CampaignId, Sequence), stored for lookup and the UNIQUE check.</summary>
public sealed record IssuedCoupon(long CampaignId, string UserId, long Sequence, string Code, DateTimeOffset IssuedAt, int WindowIndex);
