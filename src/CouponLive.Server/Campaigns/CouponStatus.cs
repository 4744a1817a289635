using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>An issued coupon's status as the listings show it.</summary>
public static class CouponStatus
{
    public const string Issued = "issued";
    public const string Revoked = "revoked";

    /// <summary>Revoked when its campaign was cancelled with its issued coupons (read from the campaign, so no row is rewritten).</summary>
    public static string Of(StoredCampaign? campaign) => campaign?.IssuedRevoked == true ? Revoked : Issued;
}
