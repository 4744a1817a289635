using CouponLive.Issuance;

namespace CouponLive.Storage;

/// <summary>
/// A coupon as stored. The code is derived from (CampaignId, Sequence), stored for lookup and the UNIQUE check.
/// <see cref="Source"/> is its window, or the bulk grant that issued it. The use of it (<see cref="OrderId"/> and
/// <see cref="RedeemedAt"/> together, the last cancelled redemption, a revocation) is read with it and never
/// written by the group commit.
/// </summary>
public sealed record IssuedCoupon(
    long CampaignId,
    string UserId,
    long Sequence,
    string Code,
    DateTimeOffset IssuedAt,
    CouponSource Source,
    string? OrderId = null,
    DateTimeOffset? RedeemedAt = null,
    DateTimeOffset? RedemptionCancelledAt = null,
    DateTimeOffset? RevokedAt = null);
