namespace CouponLive.Storage;

/// <summary>Committed issue counts: the database's view, which is the arbiter.</summary>
public sealed record CampaignCounts(int Issued, IReadOnlyList<int> IssuedPerWindow);
