namespace CouponLive.Campaigns;

public sealed record WindowResponse(int Index, DateTimeOffset StartsAt, DateTimeOffset EndsAt, int? Quota, int IssuedCount);
