namespace CouponLive.Storage;

/// <summary>A written row as a store reports it back: campaign, sequence and user.</summary>
public readonly record struct RowKey(long CampaignId, long Sequence, string UserId)
{
    public static RowKey Of(IssuedCoupon c) => new(c.CampaignId, c.Sequence, c.UserId);
}
