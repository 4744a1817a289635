namespace CouponLive.Campaigns;

public sealed record CampaignList(IReadOnlyList<CampaignSummary> Items);
