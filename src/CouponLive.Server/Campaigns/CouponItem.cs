namespace CouponLive.Campaigns;

public sealed record CouponItem(string Code, string UserId, long Sequence, DateTimeOffset IssuedAt);
