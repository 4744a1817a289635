using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>A campaign's administrative changes, newest first.</summary>
public sealed record CampaignAudit(IReadOnlyList<AuditEntry> Items);
