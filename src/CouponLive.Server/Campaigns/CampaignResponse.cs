namespace CouponLive.Campaigns;

/// <summary>
/// A campaign with its committed counts and status at <see cref="ServerTime"/>: what every transport shows.
/// <see cref="Version"/> is the ETag; <see cref="PausedAt"/> the instant after which the gate admitted nobody.
/// </summary>
public sealed record CampaignResponse(
    long Id,
    string Name,
    int TotalQuantity,
    int IssuedCount,
    int Remaining,
    string Status,
    IReadOnlyList<WindowResponse> Windows,
    WindowResponse? CurrentWindow,
    WindowResponse? NextWindow,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit,
    DateTimeOffset CreatedAt,
    DateTimeOffset ServerTime,
    int Version,
    DateTimeOffset? PausedAt,
    DateTimeOffset? CancelledAt,
    bool? IssuedRevoked,
    int RedeemedCount);
