using System.Diagnostics.Metrics;
using CouponLive.Diagnostics;

namespace CouponLive.Events;

/// <summary>
/// The relay's figures. The backlog gauges are reported by the process holding the lease only (the others would
/// report the same store's backlog again), from its last look at the store.
/// </summary>
public sealed class EventMetrics
{
    private readonly Counter<long> _published;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _parked;
    private volatile EventBacklog? _backlog;
    private readonly TimeProvider _time;

    public EventMetrics(IMeterFactory meterFactory, TimeProvider time)
    {
        _time = time;
        var meter = meterFactory.Create(CouponMetrics.MeterName);
        _published = meter.CreateCounter<long>("couponlive.events.published", "{event}", "Events the broker confirmed, by type");
        _failures = meter.CreateCounter<long>("couponlive.events.publish_failures", "{attempt}", "Publish attempts that failed and are retried");
        _parked = meter.CreateCounter<long>("couponlive.events.parked", "{event}", "Events the broker refused for good, set aside (they stay in the feed)");
        meter.CreateObservableGauge("couponlive.events.pending", () => _backlog is { } b ? [new Measurement<long>(b.Pending)] : Array.Empty<Measurement<long>>(),
            "{event}", "Committed events the broker has not confirmed yet");
        meter.CreateObservableGauge("couponlive.events.oldest_pending", () => _backlog is { } b ? [new Measurement<double>(OldestAge(b))] : Array.Empty<Measurement<double>>(),
            "s", "Age of the oldest committed event the broker has not confirmed (0 when none)");
    }

    /// <summary>The last backlog the lease holder saw; null when this process does not hold the lease.</summary>
    public EventBacklog? Backlog
    {
        get => _backlog;
        set => _backlog = value;
    }

    public double OldestAge(EventBacklog b) => b.OldestPending is { } t ? Math.Max(0, (_time.GetUtcNow() - t).TotalSeconds) : 0;

    public void Published(string type, long count) => _published.Add(count, new KeyValuePair<string, object?>("type", type));

    public void Failed() => _failures.Add(1);

    public void Parked(long count) => _parked.Add(count);
}
