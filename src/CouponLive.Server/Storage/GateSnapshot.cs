namespace CouponLive.Storage;

/// <summary>Everything needed to rebuild a campaign's admission gate from committed rows.</summary>
public sealed record GateSnapshot(IReadOnlyList<IssuedCoupon> Coupons, long MaxSequence);
