using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>A planned change: the campaign it makes and what changed (empty: nothing to do).</summary>
public sealed record Planned(StoredCampaign Campaign, IReadOnlyList<AuditChange> Changes);
