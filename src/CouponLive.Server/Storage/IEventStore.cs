using CouponLive.Events;

namespace CouponLive.Storage;

/// <summary>
/// The outbox's side of a store (the three stores implement it with <see cref="ICouponStore"/>): events are written by
/// the store's own transactions at feed positions that follow commit order with no gap; the relay holding the lease
/// publishes them in that order and moves the sent mark past what the broker confirmed. Every call that moves the
/// outbox on is fenced by the lease: a relay whose lease ran out changes nothing.
/// </summary>
public interface IEventStore
{
    /// <summary>Takes or renews the relay lease until <paramref name="now"/> + <paramref name="ttl"/>; false while another holder's lease runs.</summary>
    Task<bool> HoldRelayLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken ct);

    /// <summary>Ends this holder's lease at once (a process that stops hands over without waiting for it to lapse).</summary>
    Task ReleaseRelayLeaseAsync(string holder, CancellationToken ct);

    /// <summary>The committed events after the sent mark, in feed order.</summary>
    Task<IReadOnlyList<StoredEvent>> ListUnsentEventsAsync(int limit, CancellationToken ct);

    /// <summary>Moves the sent mark to <paramref name="through"/> and parks the refused events; false (nothing changed) when the lease is not this holder's.</summary>
    Task<bool> MarkEventsSentAsync(string holder, DateTimeOffset now, long through, IReadOnlyList<ParkedEvent> parked, CancellationToken ct);

    /// <summary>Committed events after feed position <paramref name="after"/>, in feed order (sent or not).</summary>
    Task<IReadOnlyList<StoredEvent>> ReadEventFeedAsync(long after, int limit, CancellationToken ct);

    Task<EventBacklog> GetEventBacklogAsync(CancellationToken ct);

    /// <summary>Deletes up to <paramref name="limit"/> sent events committed before <paramref name="before"/>, oldest first; how many went.</summary>
    Task<int> DeleteSentEventsAsync(DateTimeOffset before, int limit, CancellationToken ct);
}
