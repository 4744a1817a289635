namespace CouponLive.Events;

/// <summary>The CloudEvents types CouponLive emits (their schemas: docs/events.md). A new version gets a new type.</summary>
public static class EventTypes
{
    public const string CouponIssued = "couponlive.coupon.issued.v1";
    public const string CouponRedeemed = "couponlive.coupon.redeemed.v1";
    public const string CouponRedemptionCancelled = "couponlive.coupon.redemption_cancelled.v1";
    public const string CouponRevoked = "couponlive.coupon.revoked.v1";
    public const string CampaignCreated = "couponlive.campaign.created.v1";
    public const string CampaignChanged = "couponlive.campaign.changed.v1";
    public const string GrantFinished = "couponlive.grant.finished.v1";
}
