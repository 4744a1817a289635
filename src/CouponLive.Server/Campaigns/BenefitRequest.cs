namespace CouponLive.Campaigns;

public sealed record BenefitRequest(string? Type, decimal? Value);
