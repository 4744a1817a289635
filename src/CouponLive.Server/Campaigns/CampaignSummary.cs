namespace CouponLive.Campaigns;

public sealed record CampaignSummary(long Id, string Name, int TotalQuantity, int IssuedCount, string Status, DateTimeOffset StartsAt, DateTimeOffset EndsAt);
