namespace CouponLive.Events;

/// <summary>
/// The port a broker's adapter implements (one per transport): publish events in the order given and say how far
/// the broker confirmed them. A new broker is one adapter; the outbox and the relay do not change.
/// </summary>
public interface IEventPublisher
{
    /// <summary>
    /// Publishes <paramref name="events"/> in order. The result covers the longest prefix the broker confirmed or
    /// refused for good (parked); a failure stops the rest, which the relay sends again later.
    /// </summary>
    Task<PublishResult> PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct);
}
