namespace CouponLive.Campaigns;

/// <summary>A validated campaign, ready to store. Windows are sorted and non-overlapping.</summary>
public sealed record CampaignDefinition(
    string Name,
    int TotalQuantity,
    IReadOnlyList<CampaignWindow> Windows,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit);
