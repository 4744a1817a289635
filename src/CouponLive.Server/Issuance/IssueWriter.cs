using System.Collections.Concurrent;
using System.Diagnostics;
using CouponLive.Diagnostics;
using System.Threading.Channels;
using CouponLive.Storage;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace CouponLive.Issuance;

/// <summary>
/// Group commit: admitted issues queue here and one loop commits whatever has gathered in one
/// transaction, so a burst of N admissions costs a few commits, not N. A caller learns of
/// success only after its row is committed (I5). A failed group stays queued and is retried,
/// so an admission is never dropped while the process lives; its caller may give up waiting
/// (503), and a retry of the same user joins the same pending commit.
/// </summary>
public sealed partial class IssueWriter : BackgroundService
{
    public const int MaxGroupSize = 1_000;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly Channel<PendingCommit> _queue = Channel.CreateUnbounded<PendingCommit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(long Campaign, string User), PendingCommit> _pending = new();
    private readonly ICouponStore _store;
    private readonly CouponMetrics _metrics;
    private readonly DependencyBreaker _breaker;
    private readonly ILogger<IssueWriter> _logger;
    private readonly IAdmissionOutbox? _outbox;
    private readonly int _maxPending;
    private int _pendingCount;

    public IssueWriter(ICouponStore store, CouponMetrics metrics, DependencyBreakers breakers, IOptions<IssuanceOptions> options,
        ILogger<IssueWriter> logger, IAdmissionOutbox? outbox = null)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
        _outbox = outbox;
        _breaker = breakers.Store;
        _maxPending = options.Value.MaxPendingCommits;
        metrics.Observe("couponlive.writer.pending", "{coupon}", "Admitted issues waiting for their commit", () => [new(PendingCount)]);
    }

    /// <summary>Admitted issues not yet committed (queued or in the group being committed).</summary>
    public int PendingCount => Volatile.Read(ref _pendingCount);

    /// <summary>
    /// True when as many issues wait for the store as Issuance:MaxPendingCommits allows: new requests are then
    /// refused before the gate admits them, so a slow store bounds memory instead of growing a queue.
    /// </summary>
    public bool IsFull => PendingCount >= _maxPending;

    /// <summary>
    /// Commits the coupon (idempotently per campaign and user) and returns the stored outcome. Once
    /// committed, the admission is released from its outbox entry (if any; the entry goes when all its
    /// admissions are released), so the reconciler has nothing to redo.
    /// </summary>
    public Task<CommitOutcome> CommitAsync(IssuedCoupon coupon, string? outboxId = null)
    {
        var key = (coupon.CampaignId, coupon.UserId);
        var created = new PendingCommit(coupon, outboxId);
        var pending = _pending.GetOrAdd(key, created);
        if (!ReferenceEquals(pending, created)) return pending.Done.Task;
        if (!_queue.Writer.TryWrite(created))
        {
            _pending.TryRemove(key, out _);
            return Task.FromException<CommitOutcome>(new StoreUnavailableException("The writer is shutting down."));
        }
        Interlocked.Increment(ref _pendingCount);
        return created.Done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var group = new List<PendingCommit>(MaxGroupSize);
        var coupons = new List<IssuedCoupon>(MaxGroupSize);
        // Drain until the channel is completed, so admissions queued at shutdown still commit.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            while (group.Count < MaxGroupSize && _queue.Reader.TryRead(out var p)) group.Add(p);
            coupons.Clear();
            foreach (var p in group) coupons.Add(p.Coupon);

            var outcomes = await CommitWithRetryAsync(coupons, stoppingToken);
            for (var i = 0; i < group.Count; i++)
            {
                var p = group[i];
                _pending.TryRemove(new KeyValuePair<(long, string), PendingCommit>((p.Coupon.CampaignId, p.Coupon.UserId), p));
                Interlocked.Decrement(ref _pendingCount);
                if (outcomes is null) p.Done.TrySetException(new StoreUnavailableException("The store did not commit before shutdown."));
                else p.Done.TrySetResult(outcomes[i]);
            }
            // Not awaited: the next group's commit must not wait for Redis; releasing is best effort.
            if (_outbox is not null && outcomes is not null) _ = ReleaseOutboxAsync(_outbox, group.ToList(), outcomes);
        }
    }

    /// <summary>Releases the outbox records of admissions now stored. Best effort: the reconciler sweeps what is left.</summary>
    private async Task ReleaseOutboxAsync(IAdmissionOutbox outbox, List<PendingCommit> group, IReadOnlyList<CommitOutcome> outcomes)
    {
        Dictionary<long, List<string>>? byCampaign = null;
        for (var i = 0; i < group.Count; i++)
        {
            var p = group[i];
            var stored = outcomes[i].Status != CommitStatus.Rejected && outcomes[i].Coupon!.Sequence == p.Coupon.Sequence;
            if (p.OutboxId is null || !stored) continue;
            byCampaign ??= [];
            if (!byCampaign.TryGetValue(p.Coupon.CampaignId, out var ids)) byCampaign[p.Coupon.CampaignId] = ids = [];
            ids.Add(p.OutboxId);
        }
        if (byCampaign is null) return;
        foreach (var (campaignId, ids) in byCampaign)
        {
            try
            {
                await outbox.ReleaseOutboxAsync(campaignId, ids, CancellationToken.None);
            }
            catch (Exception ex)
            {
                LogReleaseFailed(campaignId, ids.Count, ex.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<CommitOutcome>?> CommitWithRetryAsync(List<IssuedCoupon> coupons, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await _breaker.ExecuteAsync(static s => new ValueTask<IReadOnlyList<CommitOutcome>>(s.store.CommitAsync(s.coupons, CancellationToken.None)), (store: _store, coupons));
            if (outcome.Exception is null)
            {
                _metrics.WriterCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _metrics.WriterBatchSize.Record(coupons.Count);
                return outcome.Result;
            }
            // Open circuit: refused here without touching the store; the breaker lets one try through per break.
            if (outcome.Exception is not BrokenCircuitException)
            {
                _metrics.Errors.Add(1, CouponMetrics.Tag("component", "store"));
                LogCommitFailed(outcome.Exception, coupons.Count, attempt);
            }
            if (stoppingToken.IsCancellationRequested && attempt >= 3) return null;
            // A steady retry, not a backoff: the breaker spaces the real tries once the store counts as down,
            // and until then quick retries are what let it notice within a second.
            await Task.Delay(RetryDelay, CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing {Count} stored admissions from the outbox of campaign {CampaignId} failed ({Reason}); the reconciler will")]
    private partial void LogReleaseFailed(long campaignId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a group of {Count} issues failed (attempt {Attempt}); retrying")]
    private partial void LogCommitFailed(Exception ex, int count, int attempt);

    private sealed class PendingCommit(IssuedCoupon coupon, string? outboxId)
    {
        public IssuedCoupon Coupon { get; } = coupon;
        public string? OutboxId { get; } = outboxId;
        public TaskCompletionSource<CommitOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
