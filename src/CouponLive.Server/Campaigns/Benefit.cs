namespace CouponLive.Campaigns;

public sealed record Benefit(string Type, decimal Value);
