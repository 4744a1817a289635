namespace CouponLive.Storage;

/// <summary>What one group commit adds to one counter: the campaign's (<see cref="WindowIndex"/> null) or one window's.</summary>
public readonly record struct CounterChange(long CampaignId, int? WindowIndex, int Added);
