using CouponLive.Codes;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Commits admissions whose process died (or stalled) before committing them, from the gate's outbox, idempotently,
/// then trims the outbox. So a crash can delay an issue but never leak its stock (I6). Commits go through the writer
/// (a row at fault is parked there, not retried here forever); each campaign is swept on its own, so one that fails
/// never holds back the others.
/// </summary>
public sealed partial class OutboxReconciler(
    IAdmissionOutbox outbox,
    IssueWriter writer,
    GateRepair repair,
    CouponCodeCodec codec,
    TimeProvider time,
    IOptions<ReconcilerOptions> options,
    IOptions<IssuanceOptions> issuanceOptions,
    CouponMetrics metrics,
    ILogger<OutboxReconciler> logger) : BackgroundService
{
    private const int PageSize = 64; // entries: each holds one gate call's admissions (up to Redis:MaxBatch)

    /// <summary>Commits the campaign's outbox entries admitted before <paramref name="before"/>; returns how many rows it added.</summary>
    public async Task<int> CommitOutboxAsync(long campaignId, DateTimeOffset before, CancellationToken ct)
    {
        var added = 0;
        while (true)
        {
            var entries = await outbox.ReadOutboxAsync(campaignId, before, PageSize, ct);
            if (entries.Count == 0) return added;
            var coupons = entries.Select(e => new IssuedCoupon(e.CampaignId, e.UserId, e.Sequence, codec.Encode(e.CampaignId, e.Sequence), e.At, e.Source)).ToList();
            // No outbox id: the entries are deleted here, once all their admissions have a final outcome.
            var outcomes = await Task.WhenAll(coupons.Select(c => writer.CommitAsync(c))).WaitAsync(issuanceOptions.Value.CommitTimeout, ct);

            for (var i = 0; i < outcomes.Length; i++)
            {
                var verdict = await repair.AfterCommitAsync(coupons[i], new Admission(AdmissionOutcome.Admitted, coupons[i].Sequence, coupons[i].IssuedAt, coupons[i].Source), outcomes[i]);
                var action = verdict switch
                {
                    CommitVerdict.Issued when outcomes[i].Status == CommitStatus.Inserted => "committed",
                    CommitVerdict.Issued => "already_committed",
                    CommitVerdict.HeldBefore => "held_before",
                    _ => "refused",
                };
                if (action == "committed") added++;
                metrics.ReconcilerActions.Add(1, CouponMetrics.Tag("action", action));
            }
            var ids = entries.Select(e => e.Id).Distinct().ToList();
            await outbox.DeleteOutboxAsync(campaignId, ids, ct);
            if (ids.Count < PageSize) return added;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            IReadOnlyList<long> campaigns;
            try
            {
                campaigns = await outbox.KnownCampaignsAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex, 0);
                continue;
            }
            foreach (var campaignId in campaigns)
            {
                try
                {
                    var added = await CommitOutboxAsync(campaignId, time.GetUtcNow() - options.Value.Delay, stoppingToken);
                    if (added > 0) LogRecovered(campaignId, added);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogSweepFailed(ex, campaignId); // this campaign waits for the next sweep; the others go on
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committed {Count} admissions of campaign {CampaignId} from the outbox (their process did not)")]
    private partial void LogRecovered(long campaignId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox sweep failed (campaign {CampaignId}, 0 for all); trying again next interval")]
    private partial void LogSweepFailed(Exception ex, long campaignId);
}
