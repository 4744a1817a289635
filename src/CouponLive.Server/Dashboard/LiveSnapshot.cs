using CouponLive.Campaigns;

namespace CouponLive.Dashboard;

public sealed record LiveSnapshot(CampaignResponse Campaign, IReadOnlyList<string> OutcomeNames, IReadOnlyList<LiveSecondView> Seconds, IReadOnlyList<CouponItem> Recent);
