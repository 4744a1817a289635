namespace CouponLive.Campaigns;

/// <summary>An issuance window, half-open: [StartsAt, EndsAt).</summary>
public sealed record CampaignWindow(DateTimeOffset StartsAt, DateTimeOffset EndsAt, int? Quota);
