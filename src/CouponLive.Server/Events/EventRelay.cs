using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Events;

/// <summary>
/// Publishes the outbox. One process at a time holds the relay lease (in the store, renewed five times per lease
/// time); the holder publishes the unsent events in feed order through the transport (<see cref="IEventPublisher"/>)
/// and moves the sent mark past what the broker confirmed, reading the next batch from the store while the broker
/// confirms the last (calls to the transport never overlap, so its order is the feed's). A broker that fails is
/// retried with backoff while events wait in the outbox: issuing never waits for it. A holder that stops hands the lease over; one that dies lets it
/// lapse, and another process carries on from the sent mark (the broker may see the last unconfirmed events again,
/// under the same ids). Sent events are deleted after <see cref="EventsOptions.Retention"/>, in small batches.
/// </summary>
public sealed partial class EventRelay(
    IEventStore store, IEventPublisher publisher, EventMetrics metrics, IOptions<EventsOptions> options, TimeProvider time, ILogger<EventRelay> logger)
    : BackgroundService
{
    private const int DeleteBatch = 1000;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BacklogEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private readonly EventsOptions _options = options.Value;
    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private volatile bool _holding;

    public bool IsHolding => _holding;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.Zero;
        var nextBacklog = DateTimeOffset.MinValue;
        var nextSweep = DateTimeOffset.MinValue;
        var renewAt = DateTimeOffset.MinValue;
        IReadOnlyList<StoredEvent>? next = null; // read ahead while the last batch was being published
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow();
                if (!_holding || now >= renewAt)
                {
                    if (!_holding) next = null; // another holder may have moved the mark meanwhile
                    if (!await store.HoldRelayLeaseAsync(_holder, now, _options.LeaseTime, stop))
                    {
                        next = null;
                        Hold(false);
                        await Task.Delay(_options.LeaseTime / 5, time, stop);
                        continue;
                    }
                    Hold(true);
                    renewAt = now + _options.LeaseTime / 5;
                }

                var unsent = next ?? await store.ListUnsentEventsAsync(_options.BatchSize, stop);
                next = null;
                var failed = false;
                if (unsent.Count > 0)
                {
                    var publishing = publisher.PublishAsync(unsent, stop);
                    // While the broker works on a full batch, read the one after it, so the broker does not wait for
                    // the store between batches. It is used only if this batch is confirmed and marked in full.
                    var reading = unsent.Count == _options.BatchSize ? ReadAheadAsync(unsent[^1].FeedPosition, stop) : null;
                    var result = await publishing;
                    var marked = result.Done == 0 || await MarkSentAsync(unsent, result);
                    var following = reading is null ? null : await reading;
                    if (!marked) continue;
                    if (result.Failure is null && result.Done == unsent.Count) next = following;
                    if (result.Failure is { } failure)
                    {
                        failed = true;
                        metrics.Failed();
                        backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                        LogPublishFailed(unsent.Count - result.Done, backoff.TotalMilliseconds, failure.Message);
                    }
                    else backoff = TimeSpan.Zero;
                }

                if (now >= nextBacklog)
                {
                    metrics.Backlog = await store.GetEventBacklogAsync(stop);
                    nextBacklog = now + BacklogEvery;
                }
                if (now >= nextSweep)
                {
                    await SweepAsync(now, stop);
                    nextSweep = now + SweepEvery;
                }
                if (failed) await Task.Delay(backoff, time, stop);
                else if (unsent.Count < _options.BatchSize) await Task.Delay(_options.PollInterval, time, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The store is out of reach (or failed): nothing moved; try again shortly.
                next = null;
                Hold(false);
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                LogStepFailed(ex.GetType().Name, ex.Message);
                try
                {
                    await Task.Delay(backoff, time, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        await ReleaseAsync();
    }

    /// <summary>Hands the lease over on the way out, so another process takes over at its next try, not after the lease time.</summary>
    private async Task ReleaseAsync()
    {
        if (!_holding) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await store.ReleaseRelayLeaseAsync(_holder, timeout.Token);
            Hold(false);
        }
        catch (Exception ex)
        {
            // It lapses by itself.
            LogStepFailed(ex.GetType().Name, ex.Message);
        }
    }

    /// <summary>The events after <paramref name="after"/>, or null when there are none or the read failed (the next step reads them again); never throws.</summary>
    private async Task<IReadOnlyList<StoredEvent>?> ReadAheadAsync(long after, CancellationToken stop)
    {
        try
        {
            var read = await store.ReadEventFeedAsync(after, _options.BatchSize, stop);
            return read.Count > 0 ? read : null;
        }
        catch (Exception ex)
        {
            if (!stop.IsCancellationRequested) LogStepFailed(ex.GetType().Name, ex.Message);
            return null;
        }
    }

    private async Task<bool> MarkSentAsync(IReadOnlyList<StoredEvent> unsent, PublishResult result)
    {
        // Not cut short by a stop: what the broker confirmed is marked, or the next holder sends it all again.
        using var marking = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        if (!await store.MarkEventsSentAsync(_holder, time.GetUtcNow(), unsent[result.Done - 1].FeedPosition, result.Parked, marking.Token))
        {
            // The lease ran out meanwhile: another holder sends these again (the same ids).
            Hold(false);
            return false;
        }
        var parked = result.Parked.Select(p => p.FeedPosition).ToHashSet();
        foreach (var group in unsent.Take(result.Done).Where(e => !parked.Contains(e.FeedPosition)).GroupBy(e => e.Type))
            metrics.Published(group.Key, group.Count());
        if (result.Parked.Count > 0)
        {
            metrics.Parked(result.Parked.Count);
            foreach (var p in result.Parked) LogParked(p.FeedPosition, p.Reason);
        }
        return true;
    }

    private async Task SweepAsync(DateTimeOffset now, CancellationToken stop)
    {
        var before = now - _options.Retention;
        int deleted;
        var total = 0;
        do
        {
            deleted = await store.DeleteSentEventsAsync(before, DeleteBatch, stop);
            total += deleted;
        }
        while (deleted == DeleteBatch && total < 100 * DeleteBatch && !stop.IsCancellationRequested);
        if (total > 0) LogSwept(total);
    }

    private void Hold(bool holding)
    {
        if (holding == _holding) return;
        _holding = holding;
        if (!holding) metrics.Backlog = null;
        if (holding) LogLeaseTaken(_holder);
        else LogLeaseLost(_holder);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event relay: {Holder} holds the lease and publishes the outbox")]
    private partial void LogLeaseTaken(string holder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event relay: {Holder} does not hold the lease (another process publishes, or the store is out of reach)")]
    private partial void LogLeaseLost(string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event relay: publishing failed, {Pending} events wait in the outbox; retrying in {BackoffMs} ms: {Reason}")]
    private partial void LogPublishFailed(int pending, double backoffMs, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event relay: a step failed ({Error}: {Reason}); nothing was marked sent, retrying")]
    private partial void LogStepFailed(string error, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Event relay: the broker refused event at feed position {FeedPosition} for good; parked (it stays in the feed): {Reason}")]
    private partial void LogParked(long feedPosition, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event relay: deleted {Count} sent events past their retention")]
    private partial void LogSwept(int count);
}
