using System.Collections.Concurrent;
using System.Diagnostics;
using CouponLive.Diagnostics;
using System.Threading.Channels;
using CouponLive.Storage;

namespace CouponLive.Issuance;

/// <summary>
/// Group commit: admitted issues queue here and one loop commits whatever has gathered in one
/// transaction, so a burst of N admissions costs a few commits, not N. A caller learns of
/// success only after its row is committed (I5). A failed group stays queued and is retried,
/// so an admission is never dropped while the process lives; its caller may give up waiting
/// (503), and a retry of the same user joins the same pending commit.
/// </summary>
public sealed partial class IssueWriter(ICouponStore store, CouponMetrics metrics, ILogger<IssueWriter> logger, IAdmissionOutbox? outbox = null) : BackgroundService
{
    public const int MaxGroupSize = 1_000;

    private readonly Channel<PendingCommit> _queue = Channel.CreateUnbounded<PendingCommit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(long Campaign, string User), PendingCommit> _pending = new();

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
        if (ReferenceEquals(pending, created) && !_queue.Writer.TryWrite(created))
        {
            _pending.TryRemove(key, out _);
            return Task.FromException<CommitOutcome>(new StoreUnavailableException("The writer is shutting down."));
        }
        return pending.Done.Task;
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
                if (outcomes is null) p.Done.TrySetException(new StoreUnavailableException("The store did not commit before shutdown."));
                else p.Done.TrySetResult(outcomes[i]);
            }
            // Not awaited: the next group's commit must not wait for Redis; releasing is best effort.
            if (outbox is not null && outcomes is not null) _ = ReleaseOutboxAsync(outbox, group.ToList(), outcomes);
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
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var outcomes = await store.CommitAsync(coupons, CancellationToken.None);
                metrics.WriterCommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                metrics.WriterBatchSize.Record(coupons.Count);
                return outcomes;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                metrics.Errors.Add(1, CouponMetrics.Tag("component", "store"));
                LogCommitFailed(ex, coupons.Count, attempt);
                if (stoppingToken.IsCancellationRequested && attempt >= 3) return null;
                await Task.Delay(delay, CancellationToken.None);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
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
