using CouponLive.Campaigns;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Keeps a long-lived process's memory bounded: a campaign whose last window ended more than
/// Issuance:ForgetEndedAfter ago is dropped from the catalog, the in-process gate (rebuilt from the store if it is
/// asked for again) and the remembered winners. Shared state in Redis expires by itself (Redis:KeyTtlAfterEnd).
/// </summary>
public sealed partial class EndedCampaignSweeper(
    CampaignCatalog catalog,
    IAdmissionGate gate,
    CommittedCoupons committed,
    IOptions<IssuanceOptions> options,
    TimeProvider time,
    ILogger<EndedCampaignSweeper> logger) : BackgroundService
{
    /// <summary>Forgets the ended campaigns; how many.</summary>
    public int Sweep()
    {
        var endedBefore = time.GetUtcNow() - options.Value.ForgetEndedAfter;
        var forgotten = 0;
        foreach (var campaign in catalog.Cached)
        {
            if (campaign.Windows.Count == 0 || campaign.Windows[^1].EndsAt > endedBefore) continue;
            catalog.Forget(campaign.Id);
            gate.Forget(campaign.Id);
            committed.Forget(campaign.Id);
            forgotten++;
        }
        if (forgotten > 0) LogForgotten(forgotten);
        return forgotten;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Often enough that a campaign is forgotten soon after its time, rarely enough to cost nothing.
        var interval = TimeSpan.FromSeconds(Math.Clamp(options.Value.ForgetEndedAfter.TotalSeconds / 4, 1, 60));
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken)) Sweep();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forgot {Count} campaigns that ended long ago")]
    private partial void LogForgotten(int count);
}
