namespace CouponLive.Storage;

/// <summary>Committed issue counts (the database's view, which is the arbiter), and how many coupons are redeemed now.</summary>
public sealed record CampaignCounts(int Issued, IReadOnlyList<int> IssuedPerWindow, int Redeemed = 0);
