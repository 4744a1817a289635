using CouponLive.Storage;

namespace CouponLive.Issuance;

public readonly record struct IssueResult(IssueStatus Status, StoredCampaign? Campaign = null, IssuedCoupon? Coupon = null, DateTimeOffset? OpensAt = null, TimeSpan? RetryAfter = null);
