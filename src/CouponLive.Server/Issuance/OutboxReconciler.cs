using CouponLive.Codes;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Commits admissions whose process died (or stalled) before committing them, from the gate's outbox,
/// idempotently, then trims the outbox. So a crash can delay an issue but never leak its stock (I6).
/// </summary>
public sealed partial class OutboxReconciler(
    IAdmissionOutbox outbox,
    IAdmissionGate gate,
    ICouponStore store,
    CouponCodeCodec codec,
    TimeProvider time,
    IOptions<ReconcilerOptions> options,
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
            var coupons = entries.Select(e => new IssuedCoupon(e.CampaignId, e.UserId, e.Sequence, codec.Encode(e.CampaignId, e.Sequence), e.At, e.WindowIndex)).ToList();
            var outcomes = await store.CommitAsync(coupons, ct);

            var disagreements = 0;
            for (var i = 0; i < outcomes.Count; i++)
            {
                string action;
                switch (outcomes[i].Status)
                {
                    case CommitStatus.Inserted: added++; action = "committed"; break;
                    case CommitStatus.Existing when outcomes[i].Coupon!.Sequence == coupons[i].Sequence: action = "already_committed"; break;
                    default: disagreements++; action = "refused"; break;
                }
                metrics.ReconcilerActions.Add(1, CouponMetrics.Tag("action", action));
            }
            var ids = entries.Select(e => e.Id).Distinct().ToList();
            await outbox.DeleteOutboxAsync(campaignId, ids, ct);
            if (disagreements > 0)
            {
                // The store refused admissions the gate made: the gate's counts are off, rebuild them.
                LogDisagreement(campaignId, disagreements);
                metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "store_disagreed"));
                await gate.EvictAsync(campaignId, ct);
            }
            if (ids.Count < PageSize) return added;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var campaignId in await outbox.KnownCampaignsAsync(stoppingToken))
                {
                    var added = await CommitOutboxAsync(campaignId, time.GetUtcNow() - options.Value.Delay, stoppingToken);
                    if (added > 0) LogRecovered(campaignId, added);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committed {Count} admissions of campaign {CampaignId} from the outbox (their process did not)")]
    private partial void LogRecovered(long campaignId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The store refused {Count} outbox admissions of campaign {CampaignId}; rebuilding its gate")]
    private partial void LogDisagreement(long campaignId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox sweep failed; trying again next interval")]
    private partial void LogSweepFailed(Exception ex);
}
