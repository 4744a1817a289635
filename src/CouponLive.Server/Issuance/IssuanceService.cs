using System.Collections.Concurrent;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

public enum IssueStatus { Issued, AlreadyIssued, NotFound, NotOpen, Ended, SoldOut, WindowSoldOut, Unavailable }

public readonly record struct IssueResult(IssueStatus Status, StoredCampaign? Campaign = null, IssuedCoupon? Coupon = null, DateTimeOffset? OpensAt = null);

public sealed class IssuanceOptions
{
    /// <summary>How long a request waits for its commit before answering 503 (the commit still goes on).</summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request waits for its campaign's gate to be (re)built before answering 503.</summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The issue path: campaign from the in-process catalog, decision from the gate, durability from
/// the writer. Only admitted requests (at most the quantity) and retries of holders reach the store.
/// </summary>
public sealed partial class IssuanceService(
    CampaignCatalog catalog,
    IAdmissionGate gate,
    IssueWriter writer,
    ICouponStore store,
    CouponCodeCodec codec,
    OutboxReconciler reconciler,
    CouponMetrics metrics,
    TimeProvider time,
    IOptions<IssuanceOptions> options,
    ILogger<IssuanceService> logger)
{
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _loadLocks = new();

    public async Task<IssueResult> IssueAsync(long campaignId, string userId, CancellationToken ct)
    {
        var campaign = await catalog.GetAsync(campaignId, ct);
        if (campaign is null) return new IssueResult(IssueStatus.NotFound);

        var admission = await gate.AdmitAsync(campaign, userId, ct);
        if (admission.Outcome == AdmissionOutcome.NotLoaded)
        {
            if (!await LoadGateAsync(campaign, ct)) return new IssueResult(IssueStatus.Unavailable, campaign);
            admission = await gate.AdmitAsync(campaign, userId, ct);
        }

        return admission.Outcome switch
        {
            AdmissionOutcome.Admitted or AdmissionOutcome.AlreadyAdmitted => await CommitAsync(campaign, userId, admission),
            AdmissionOutcome.NotOpen => new IssueResult(IssueStatus.NotOpen, campaign, OpensAt: admission.OpensAt),
            AdmissionOutcome.Ended => new IssueResult(IssueStatus.Ended, campaign),
            AdmissionOutcome.SoldOut => new IssueResult(IssueStatus.SoldOut, campaign),
            AdmissionOutcome.WindowSoldOut => new IssueResult(IssueStatus.WindowSoldOut, campaign, OpensAt: admission.OpensAt),
            _ => new IssueResult(IssueStatus.Unavailable, campaign),
        };
    }

    private async Task<IssueResult> CommitAsync(StoredCampaign campaign, string userId, Admission admission)
    {
        var coupon = new IssuedCoupon(campaign.Id, userId, admission.Sequence, codec.Encode(campaign.Id, admission.Sequence), admission.At, admission.WindowIndex);
        CommitOutcome outcome;
        try
        {
            // Not cancelled with the request: the commit must finish even if the client went away.
            outcome = await writer.CommitAsync(coupon, admission.OutboxId).WaitAsync(options.Value.CommitTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or StoreUnavailableException)
        {
            return new IssueResult(IssueStatus.Unavailable, campaign);
        }

        switch (outcome.Status)
        {
            // This admission's row, written by this call or by an earlier try of the same admission
            // (a lost acknowledgement, the outbox reconciler): a fresh admission is "issued", a retry "already".
            case CommitStatus.Inserted or CommitStatus.Existing when outcome.Coupon!.Sequence == coupon.Sequence:
                var status = admission.Outcome == AdmissionOutcome.Admitted ? IssueStatus.Issued : IssueStatus.AlreadyIssued;
                return new IssueResult(status, campaign, outcome.Coupon);
            case CommitStatus.Existing:
                // The store knew a holder the gate did not: the store wins, and the gate is rebuilt.
                LogGateDisagreed(campaign.Id, "holder unknown to the gate");
                metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "store_disagreed"));
                await gate.EvictAsync(campaign.Id, CancellationToken.None);
                return new IssueResult(IssueStatus.AlreadyIssued, campaign, outcome.Coupon);
            default:
                LogGateDisagreed(campaign.Id, "the store rejected an admitted issue");
                metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "store_disagreed"));
                await gate.EvictAsync(campaign.Id, CancellationToken.None);
                return new IssueResult(IssueStatus.Unavailable, campaign);
        }
    }

    /// <summary>
    /// Rebuilds the campaign's gate from the store: one loader across all processes (the gate's lock),
    /// one waiter per process. Outbox admissions are committed first, so the snapshot includes them.
    /// False when it could not be done in time (Redis or the store unreachable): the caller answers 503.
    /// </summary>
    private async Task<bool> LoadGateAsync(StoredCampaign campaign, CancellationToken ct)
    {
        var localLock = _loadLocks.GetOrAdd(campaign.Id, _ => new SemaphoreSlim(1, 1));
        var deadline = time.GetUtcNow() + options.Value.LoadTimeout;
        if (!await localLock.WaitAsync(options.Value.LoadTimeout, ct)) return false;
        try
        {
            while (true)
            {
                if (await gate.IsLoadedAsync(campaign.Id, ct)) return true;
                var loadLock = await gate.TryLockForLoadAsync(campaign.Id, ct);
                if (loadLock is not null)
                {
                    await using (loadLock)
                    {
                        if (await gate.IsLoadedAsync(campaign.Id, ct)) return true;
                        await reconciler.CommitOutboxAsync(campaign.Id, DateTimeOffset.MaxValue, ct);
                        var snapshot = await store.LoadGateSnapshotAsync(campaign.Id, ct);
                        await gate.LoadAsync(campaign, snapshot, ct);
                        LogGateLoaded(campaign.Id, snapshot.Coupons.Count);
                        return true;
                    }
                }
                if (time.GetUtcNow() >= deadline) return false;
                await Task.Delay(20, ct); // another process is loading it
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.Errors.Add(1, CouponMetrics.Tag("component", "gate_load"));
            LogLoadFailed(ex, campaign.Id);
            return false;
        }
        finally
        {
            localLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admission gate for campaign {CampaignId} loaded from the store with {Issued} issued coupons")]
    private partial void LogGateLoaded(long campaignId, int issued);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the admission gate of campaign {CampaignId} failed; answering 503")]
    private partial void LogLoadFailed(Exception ex, long campaignId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission gate and store disagree for campaign {CampaignId} ({Reason}); rebuilding the gate")]
    private partial void LogGateDisagreed(long campaignId, string reason);
}
