using CouponLive.Diagnostics;
using CouponLive.Storage;

namespace CouponLive.Issuance;

/// <summary>
/// What an admission's commit outcome means (<see cref="CommitOutcome.VerdictFor"/>), and what the gate learns from it,
/// the same for the issue path, the grants and the reconciler: a user the store knew with another coupon is settled in
/// the gate (the stored coupon is theirs; no rebuild); a row the store refused means the gate's counts are off, so it is
/// rebuilt from the store. Never throws: a gate it cannot reach heals by itself (a dropped gate is rebuilt; the failover
/// watch drops one that disagrees with the store).
/// </summary>
public sealed partial class GateRepair(IAdmissionGate gate, CouponMetrics metrics, ILogger<GateRepair> logger)
{
    public async Task<CommitVerdict> AfterCommitAsync(IssuedCoupon admitted, Admission admission, CommitOutcome outcome)
    {
        var verdict = outcome.VerdictFor(admitted.Sequence);
        try
        {
            switch (verdict)
            {
                case CommitVerdict.HeldBefore:
                    // The stored coupon committed after the gate's rebuild read the store (an admission of the gate before
                    // it): the gate takes it as the holder's, if its holder is still this admission.
                    LogSettled(admitted.CampaignId, admitted.UserId, admitted.Sequence, outcome.Coupon!.Sequence);
                    await gate.SettleHolderAsync(admitted.CampaignId, admitted.UserId, admission, outcome.Coupon, CancellationToken.None);
                    break;
                case CommitVerdict.Refused:
                    await EvictAsync(admitted.CampaignId, "the store refused an admitted issue");
                    break;
            }
        }
        catch (Exception ex)
        {
            LogRepairFailed(ex, admitted.CampaignId, verdict);
        }
        return verdict;
    }

    public async Task EvictAsync(long campaignId, string reason)
    {
        LogDisagreed(campaignId, reason);
        metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "store_disagreed"));
        try
        {
            await gate.EvictAsync(campaignId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogRepairFailed(ex, campaignId, CommitVerdict.Refused);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {CampaignId}: {UserId} admitted as {Sequence} already held {Stored} in the store; the gate takes the stored coupon")]
    private partial void LogSettled(long campaignId, string userId, long sequence, long stored);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission gate and store disagree for campaign {CampaignId} ({Reason}); rebuilding the gate")]
    private partial void LogDisagreed(long campaignId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: telling the gate of a commit outcome ({Verdict}) failed; it heals when it is rebuilt")]
    private partial void LogRepairFailed(Exception ex, long campaignId, CommitVerdict verdict);
}
