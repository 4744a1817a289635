namespace CouponLive.Events;

/// <summary>An event the broker refused for good (it would refuse it again), with the broker's reason.</summary>
public sealed record ParkedEvent(long FeedPosition, string Reason);
