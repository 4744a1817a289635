namespace CouponLive.Storage;

/// <summary>
/// A coupon as stored. The code is derived from (CampaignId, Sequence), stored for lookup and the UNIQUE check.
/// A negative <see cref="WindowIndex"/> is minus the number of the bulk grant that issued it (it belongs to no
/// window). The use of it (<see cref="OrderId"/> and <see cref="RedeemedAt"/> together, the last cancelled redemption,
/// a revocation) is read with it and never written by the group commit.
/// </summary>
public sealed record IssuedCoupon(
    long CampaignId,
    string UserId,
    long Sequence,
    string Code,
    DateTimeOffset IssuedAt,
    int WindowIndex,
    string? OrderId = null,
    DateTimeOffset? RedeemedAt = null,
    DateTimeOffset? RedemptionCancelledAt = null,
    DateTimeOffset? RevokedAt = null);
