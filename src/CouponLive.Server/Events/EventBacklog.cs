namespace CouponLive.Events;

/// <summary>What the outbox holds that the broker has not confirmed yet, the commit time of the oldest of it, and the events parked for good.</summary>
public sealed record EventBacklog(long Pending, DateTimeOffset? OldestPending, long Parked);
