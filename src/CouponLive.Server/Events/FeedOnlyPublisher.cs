namespace CouponLive.Events;

/// <summary>Transport <c>none</c>: no broker; an event is done once it has its place in the feed.</summary>
public sealed class FeedOnlyPublisher : IEventPublisher
{
    public Task<PublishResult> PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct) =>
        Task.FromResult(new PublishResult(events.Count, []));
}
