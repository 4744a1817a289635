namespace CouponLive.Campaigns;

public sealed record WindowRequest(string? StartsAt, string? EndsAt, long? Quota);
