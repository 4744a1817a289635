namespace CouponLive.Events;

/// <summary>
/// An event as the outbox holds it once the relay has given it its place in the feed (<see cref="FeedPosition"/>,
/// gap-free and ascending in the order of publication). <see cref="ParkedAt"/>: the broker refused it for good.
/// </summary>
public sealed record StoredEvent(
    long FeedPosition, Guid Id, long CampaignId, string Type, string Subject, DateTimeOffset Time, string Data, DateTimeOffset? ParkedAt = null);
