using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Group commit: admitted issues queue here and one loop commits whatever has gathered in one transaction, so a burst
/// of N admissions costs a few commits, not N. A caller learns of success only after its row is committed (I5).
/// A group that fails is taken apart by campaign, so one campaign's trouble never holds the others:
/// <list type="bullet">
/// <item>the store failed (down, a timeout, a deadlock): each campaign's rows wait and are retried on their own, and
/// that campaign's new admissions join them, while the other campaigns' groups go on; an admission is never dropped
/// while the process lives (its caller may give up waiting with 503, and a retry of the same user joins the same
/// pending commit);</item>
/// <item>the rows caused it (<see cref="StoreErrors.IsRowCaused"/>): the campaign's rows are split in halves until the
/// row at fault is alone; it is parked (answered Rejected, counted in <c>couponlive_writer_parked_total</c>, logged)
/// and the rest commit.</item>
/// </list>
/// </summary>
public sealed partial class IssueWriter : BackgroundService
{
    public const int MaxGroupSize = 1_000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);
    private const int ParkAfterFailures = 2;   // a row refused twice on its own is at fault
    private const int AttemptsWhenStopping = 3; // at shutdown, a store still failing after these lets the rest go

    private readonly Channel<PendingCommit> _queue = Channel.CreateUnbounded<PendingCommit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(long Campaign, string User), PendingCommit> _pending = new();
    private readonly ConcurrentDictionary<long, int> _pendingByCampaign = new();
    private readonly Dictionary<long, Retry> _retries = []; // the loop's own: campaigns whose rows wait for a retry
    private readonly ICouponStore _store;
    private readonly CouponMetrics _metrics;
    private readonly DependencyBreaker _breaker;
    private readonly TimeProvider _time;
    private readonly ILogger<IssueWriter> _logger;
    private readonly IAdmissionOutbox? _outbox;
    private readonly int _maxPending;
    private int _pendingCount;

    public IssueWriter(ICouponStore store, CouponMetrics metrics, DependencyBreakers breakers, IOptions<IssuanceOptions> options,
        TimeProvider time, ILogger<IssueWriter> logger, IAdmissionOutbox? outbox = null)
    {
        _store = store;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _outbox = outbox;
        _breaker = breakers.Store;
        _maxPending = options.Value.MaxPendingCommits;
        metrics.Observe("couponlive.writer.pending", "{coupon}", "Admitted issues waiting for their commit", () => [new(PendingCount)]);
    }

    /// <summary>Admitted issues not yet committed (queued, waiting for a retry, or in the group being committed).</summary>
    public int PendingCount => Volatile.Read(ref _pendingCount);

    /// <summary>
    /// True when as many issues wait for the store as Issuance:MaxPendingCommits allows: new requests are then
    /// refused before the gate admits them, so a slow store bounds memory instead of growing a queue.
    /// </summary>
    public bool IsFull => PendingCount >= _maxPending;

    /// <summary>
    /// Commits the coupon (idempotently per campaign and user) and returns the stored outcome. Once the outcome is
    /// final, the admission is released from its outbox entry (if any; the entry goes when all its admissions are
    /// released), so the reconciler has nothing to redo.
    /// </summary>
    public Task<CommitOutcome> CommitAsync(IssuedCoupon coupon, string? outboxId = null)
    {
        var key = (coupon.CampaignId, coupon.UserId);
        var created = new PendingCommit(coupon, outboxId);
        var pending = _pending.GetOrAdd(key, created);
        if (!ReferenceEquals(pending, created)) return pending.Done.Task;
        _pendingByCampaign.AddOrUpdate(coupon.CampaignId, 1, static (_, n) => n + 1);
        if (!_queue.Writer.TryWrite(created))
        {
            Forget(created);
            return Task.FromException<CommitOutcome>(new StoreUnavailableException("The writer is shutting down."));
        }
        Interlocked.Increment(ref _pendingCount);
        return created.Done.Task;
    }

    /// <summary>
    /// Waits until no commit of the campaign is pending in this process, so a rebuild of its gate reads them stored.
    /// Bounded by <paramref name="ct"/>.
    /// </summary>
    public async Task WhenCampaignSettledAsync(long campaignId, CancellationToken ct)
    {
        while (_pendingByCampaign.TryGetValue(campaignId, out var n) && n > 0) await Task.Delay(TimeSpan.FromMilliseconds(5), _time, ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var group = new List<PendingCommit>(MaxGroupSize);
        while (true)
        {
            if (TakeDueRetry() is { } retry)
            {
                await CommitRetryAsync(retry, stoppingToken);
                continue;
            }
            // Drain until the channel is completed and nothing waits for a retry, so admissions queued at shutdown still commit.
            if (!await WaitForWorkAsync()) return;

            group.Clear();
            while (group.Count < MaxGroupSize && _queue.Reader.TryRead(out var p))
            {
                // A campaign whose rows wait for a retry: its new rows wait with them, out of everyone else's group.
                if (_retries.TryGetValue(p.Coupon.CampaignId, out var waiting)) waiting.Rows.Add(p);
                else group.Add(p);
            }
            if (group.Count == 0) continue;

            var (outcomes, error) = await TryCommitAsync(group);
            if (outcomes is not null)
            {
                Complete(group, outcomes);
                continue;
            }
            foreach (var part in group.GroupBy(p => p.Coupon.CampaignId))
            {
                var rows = part.ToList();
                if (StoreErrors.IsRowCaused(error!)) rows = await IsolateAsync(rows);
                if (rows.Count > 0) ScheduleRetry(part.Key, rows, stoppingToken);
            }
        }
    }

    /// <summary>True when fresh rows can be read; waits at most until the next retry is due. False when done for good.</summary>
    private async Task<bool> WaitForWorkAsync()
    {
        if (_retries.Count == 0) return await _queue.Reader.WaitToReadAsync(CancellationToken.None) || _retries.Count > 0;
        if (_queue.Reader.TryPeek(out _)) return true;
        var due = _retries.Values.Min(r => r.NotBefore) - _time.GetTimestamp();
        if (due > 0)
        {
            using var wake = new CancellationTokenSource(TimeSpan.FromSeconds((double)due / _time.TimestampFrequency), _time);
            try
            {
                await _queue.Reader.WaitToReadAsync(wake.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return true;
    }

    private Retry? TakeDueRetry()
    {
        if (_retries.Count == 0) return null;
        var now = _time.GetTimestamp();
        foreach (var (campaign, retry) in _retries)
        {
            if (retry.NotBefore > now) continue;
            _retries.Remove(campaign);
            return retry;
        }
        return null;
    }

    private async Task CommitRetryAsync(Retry retry, CancellationToken stoppingToken)
    {
        var rows = retry.Rows;
        for (var start = 0; start < rows.Count; start += MaxGroupSize)
        {
            var part = rows.GetRange(start, Math.Min(MaxGroupSize, rows.Count - start));
            var (outcomes, error) = await TryCommitAsync(part);
            if (outcomes is not null)
            {
                Complete(part, outcomes);
                continue;
            }
            var left = StoreErrors.IsRowCaused(error!) ? await IsolateAsync(part) : part;
            left.AddRange(rows.Skip(start + part.Count));
            if (left.Count > 0) ScheduleRetry(retry.CampaignId, left, stoppingToken, retry.Attempts + 1);
            return;
        }
    }

    /// <summary>
    /// Commits one campaign's rows apart after they caused a failure together: halves, recursively, until the row at
    /// fault is alone, which is parked after <see cref="ParkAfterFailures"/> refusals. Returns the rows left for a
    /// retry (the store itself failed meanwhile).
    /// </summary>
    private async Task<List<PendingCommit>> IsolateAsync(List<PendingCommit> rows)
    {
        if (rows.Count == 1)
        {
            var row = rows[0];
            for (var failures = 1; ; failures++)
            {
                if (failures >= ParkAfterFailures)
                {
                    Park(row, failures);
                    return [];
                }
                var (single, singleError) = await TryCommitAsync(rows);
                if (single is not null)
                {
                    Complete(rows, single);
                    return [];
                }
                if (!StoreErrors.IsRowCaused(singleError!)) return rows;
                row.LastError = singleError;
            }
        }
        var half = rows.Count / 2;
        List<PendingCommit> left = [];
        foreach (var part in new[] { rows[..half], rows[half..] })
        {
            var (outcomes, error) = await TryCommitAsync(part);
            if (outcomes is not null) Complete(part, outcomes);
            else if (StoreErrors.IsRowCaused(error!)) left.AddRange(await IsolateAsync(part));
            else left.AddRange(part);
        }
        return left;
    }

    private void ScheduleRetry(long campaignId, List<PendingCommit> rows, CancellationToken stoppingToken, int attempts = 1)
    {
        if (stoppingToken.IsCancellationRequested && attempts >= AttemptsWhenStopping)
        {
            foreach (var p in rows) Finish(p, null);
            return;
        }
        if (_retries.TryGetValue(campaignId, out var waiting))
        {
            waiting.Rows.InsertRange(0, rows);
            return;
        }
        // A steady retry, not a backoff: the breaker spaces the real tries once the store counts as down, and until
        // then quick retries are what let it notice within a second.
        _retries[campaignId] = new Retry(campaignId, rows, attempts, _time.GetTimestamp() + (long)(RetryDelay.TotalSeconds * _time.TimestampFrequency));
    }

    /// <summary>One group commit through the store's breaker: the outcomes, or the failure (nothing committed).</summary>
    private async Task<(IReadOnlyList<CommitOutcome>? Outcomes, Exception? Error)> TryCommitAsync(List<PendingCommit> rows)
    {
        var coupons = new IssuedCoupon[rows.Count];
        for (var i = 0; i < rows.Count; i++) coupons[i] = rows[i].Coupon;
        var started = Stopwatch.GetTimestamp();
        var outcome = await _breaker.ExecuteAsync(static s => new ValueTask<IReadOnlyList<CommitOutcome>>(s.store.CommitAsync(s.coupons, CancellationToken.None)), (store: _store, coupons));
        if (outcome.Exception is null)
        {
            _metrics.WriterCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _metrics.WriterBatchSize.Record(coupons.Length);
            return (outcome.Result, null);
        }
        // Open circuit: refused here without touching the store; the breaker lets one try through per break.
        if (outcome.Exception is not Polly.CircuitBreaker.BrokenCircuitException)
        {
            _metrics.Errors.Add(1, CouponMetrics.Tag("component", "store"));
            LogCommitFailed(outcome.Exception, coupons.Length, coupons[0].CampaignId);
        }
        return (null, outcome.Exception);
    }

    private void Complete(List<PendingCommit> group, IReadOnlyList<CommitOutcome> outcomes)
    {
        for (var i = 0; i < group.Count; i++) Finish(group[i], outcomes[i]);
        // Not awaited: the next group's commit must not wait for Redis; releasing is best effort.
        if (_outbox is not null) _ = ReleaseOutboxAsync(_outbox, [.. group.Where(p => p.OutboxId is not null).Select(p => (p.Coupon.CampaignId, p.OutboxId!))]);
    }

    private void Park(PendingCommit row, int failures)
    {
        _metrics.WriterParked.Add(1);
        LogParked(row.LastError, row.Coupon.CampaignId, row.Coupon.UserId, row.Coupon.Sequence, failures);
        Finish(row, CommitOutcome.Rejected);
        // Final: the reconciler would only fail on it again, so its outbox admission is released with the rest.
        if (_outbox is not null && row.OutboxId is not null) _ = ReleaseOutboxAsync(_outbox, [(row.Coupon.CampaignId, row.OutboxId)]);
    }

    /// <summary>Answers the waiter (null: the writer stops without having committed it) and forgets the pending commit.</summary>
    private void Finish(PendingCommit p, CommitOutcome? outcome)
    {
        Forget(p);
        Interlocked.Decrement(ref _pendingCount);
        if (outcome is { } o) p.Done.TrySetResult(o);
        else p.Done.TrySetException(new StoreUnavailableException("The store did not commit before shutdown."));
    }

    private void Forget(PendingCommit p)
    {
        _pending.TryRemove(new KeyValuePair<(long, string), PendingCommit>((p.Coupon.CampaignId, p.Coupon.UserId), p));
        if (_pendingByCampaign.AddOrUpdate(p.Coupon.CampaignId, 0, static (_, n) => n - 1) <= 0)
            _pendingByCampaign.TryRemove(new KeyValuePair<long, int>(p.Coupon.CampaignId, 0));
    }

    /// <summary>Releases the outbox records of admissions whose outcome is final. Best effort: the reconciler sweeps what is left.</summary>
    private async Task ReleaseOutboxAsync(IAdmissionOutbox outbox, List<(long Campaign, string OutboxId)> released)
    {
        foreach (var campaign in released.GroupBy(r => r.Campaign))
        {
            var ids = campaign.Select(r => r.OutboxId).ToList();
            try
            {
                await outbox.ReleaseOutboxAsync(campaign.Key, ids, CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogReleaseFailed(campaign.Key, ids.Count, ex.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing {Count} admissions from the outbox of campaign {CampaignId} failed ({Reason}); the reconciler will")]
    private partial void LogReleaseFailed(long campaignId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a group of {Count} issues (campaign {CampaignId} first) failed; retrying")]
    private partial void LogCommitFailed(Exception ex, int count, long campaignId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Parked the issue of campaign {CampaignId} to {UserId} (sequence {Sequence}): the store refused it {Failures} times on its own; answered 503, its gate is rebuilt")]
    private partial void LogParked(Exception? ex, long campaignId, string userId, long sequence, int failures);

    private sealed class PendingCommit(IssuedCoupon coupon, string? outboxId)
    {
        public IssuedCoupon Coupon { get; } = coupon;
        public string? OutboxId { get; } = outboxId;
        public Exception? LastError { get; set; }
        public TaskCompletionSource<CommitOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Retry(long CampaignId, List<PendingCommit> Rows, int Attempts, long NotBefore);
}
