namespace CouponLive.Issuance;

/// <summary>What a campaign's gate admits besides its stock and windows rules.</summary>
public enum GateState
{
    Open,
    /// <summary>Nobody new is admitted; holders still get their coupon back.</summary>
    Paused,
    /// <summary>Ended for good; holders still get their coupon back.</summary>
    Cancelled,
    /// <summary>Ended for good with the issued coupons revoked: nobody gets a coupon.</summary>
    Revoked,
}
