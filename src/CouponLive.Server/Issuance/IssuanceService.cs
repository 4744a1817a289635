using System.Collections.Concurrent;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

public enum IssueStatus { Issued, AlreadyIssued, NotFound, NotOpen, Ended, SoldOut, WindowSoldOut, Unavailable }

public readonly record struct IssueResult(IssueStatus Status, StoredCampaign? Campaign = null, IssuedCoupon? Coupon = null, DateTimeOffset? OpensAt = null);

public sealed class IssuanceOptions
{
    /// <summary>How long a request waits for its commit before answering 503 (the commit still goes on).</summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(5);
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
            await LoadGateAsync(campaign, ct);
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
            outcome = await writer.CommitAsync(coupon).WaitAsync(options.Value.CommitTimeout);
        }
        catch (Exception ex) when (ex is TimeoutException or StoreUnavailableException)
        {
            return new IssueResult(IssueStatus.Unavailable, campaign);
        }

        switch (outcome.Status)
        {
            case CommitStatus.Inserted when admission.Outcome == AdmissionOutcome.Admitted:
                return new IssueResult(IssueStatus.Issued, campaign, outcome.Coupon);
            case CommitStatus.Inserted:
                return new IssueResult(IssueStatus.AlreadyIssued, campaign, outcome.Coupon);
            case CommitStatus.Existing when outcome.Coupon!.Sequence == coupon.Sequence:
                return new IssueResult(IssueStatus.AlreadyIssued, campaign, outcome.Coupon);
            case CommitStatus.Existing:
                // The store knew a holder the gate did not: the store wins, and the gate is rebuilt.
                LogGateDisagreed(campaign.Id, "holder unknown to the gate");
                await gate.EvictAsync(campaign.Id, CancellationToken.None);
                return new IssueResult(IssueStatus.AlreadyIssued, campaign, outcome.Coupon);
            default:
                LogGateDisagreed(campaign.Id, "the store rejected an admitted issue");
                await gate.EvictAsync(campaign.Id, CancellationToken.None);
                return new IssueResult(IssueStatus.Unavailable, campaign);
        }
    }

    /// <summary>Rebuilds the campaign's gate from committed rows, once even if many requests ask at once.</summary>
    private async Task LoadGateAsync(StoredCampaign campaign, CancellationToken ct)
    {
        var gateLock = _loadLocks.GetOrAdd(campaign.Id, _ => new SemaphoreSlim(1, 1));
        await gateLock.WaitAsync(ct);
        try
        {
            if (await gate.IsLoadedAsync(campaign.Id, ct)) return; // another request loaded it while we waited
            var snapshot = await store.LoadGateSnapshotAsync(campaign.Id, ct);
            await gate.LoadAsync(campaign, snapshot, ct);
            LogGateLoaded(campaign.Id, snapshot.Coupons.Count);
        }
        finally
        {
            gateLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admission gate for campaign {CampaignId} loaded from the store with {Issued} issued coupons")]
    private partial void LogGateLoaded(long campaignId, int issued);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission gate and store disagree for campaign {CampaignId} ({Reason}); rebuilding the gate")]
    private partial void LogGateDisagreed(long campaignId, string reason);
}
