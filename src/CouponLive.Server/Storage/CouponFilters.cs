namespace CouponLive.Storage;

/// <summary>A <see cref="CouponFilter"/> as a condition both stores append to a coupon query (the column names are the same).</summary>
internal static class CouponFilters
{
    public static string Sql(CouponFilter filter) => filter switch
    {
        CouponFilter.Redeemed => " AND redeemed_at IS NOT NULL AND revoked_at IS NULL",
        CouponFilter.Revoked => " AND revoked_at IS NOT NULL",
        CouponFilter.Unused => " AND redeemed_at IS NULL AND revoked_at IS NULL",
        CouponFilter.None => " AND 1 = 0",
        _ => "",
    };
}
