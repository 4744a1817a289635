using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>An issued coupon's status as every answer shows it: revoked, else redeemed, else expired, else issued.</summary>
public static class CouponStatus
{
    public const string Issued = "issued";
    public const string Redeemed = "redeemed";
    public const string Expired = "expired";
    public const string Revoked = "revoked";

    /// <summary>
    /// Revoked by its own row or by its campaign (cancelled with its coupons: read from the campaign, so no row is
    /// rewritten); redeemed while its redemption stands; expired once the campaign's couponValidUntil has passed.
    /// </summary>
    public static string Of(IssuedCoupon coupon, StoredCampaign? campaign, DateTimeOffset now) =>
        coupon.RevokedAt is not null || campaign?.IssuedRevoked == true ? Revoked
        : coupon.RedeemedAt is not null ? Redeemed
        : campaign?.CouponValidUntil is { } until && now >= until ? Expired
        : Issued;

    /// <summary>The rows a listing filtered by <paramref name="status"/> reads, given what the campaign says for all its coupons.</summary>
    public static CouponFilter Filter(string? status, StoredCampaign campaign, DateTimeOffset now)
    {
        var expired = campaign.CouponValidUntil is { } until && now >= until;
        return status switch
        {
            null => CouponFilter.All,
            Revoked => campaign.IssuedRevoked ? CouponFilter.All : CouponFilter.Revoked,
            _ when campaign.IssuedRevoked => CouponFilter.None,
            Redeemed => CouponFilter.Redeemed,
            Expired => expired ? CouponFilter.Unused : CouponFilter.None,
            _ => expired ? CouponFilter.None : CouponFilter.Unused, // issued
        };
    }

    public static bool IsKnown(string status) => status is Issued or Redeemed or Expired or Revoked;
}
