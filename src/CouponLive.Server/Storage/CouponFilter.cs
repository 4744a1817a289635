namespace CouponLive.Storage;

/// <summary>Which of a campaign's coupons a listing returns, by what their rows say.</summary>
public enum CouponFilter
{
    All,
    Redeemed,
    Revoked,
    /// <summary>Neither redeemed nor revoked.</summary>
    Unused,
    /// <summary>Nothing (a status no coupon of the campaign can have now).</summary>
    None,
}
