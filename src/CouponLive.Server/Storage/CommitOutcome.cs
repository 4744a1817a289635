namespace CouponLive.Storage;

public readonly record struct CommitOutcome(CommitStatus Status, IssuedCoupon? Coupon);
