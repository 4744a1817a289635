using CouponLive.Campaigns;

namespace CouponLive.Storage;

public sealed record StoredCampaign(
    long Id,
    string Name,
    int TotalQuantity,
    IReadOnlyList<CampaignWindow> Windows,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit,
    DateTimeOffset CreatedAt);
