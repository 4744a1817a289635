using CouponLive.Campaigns;
using CouponLive.Diagnostics;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Keeps a long-lived process's memory bounded: a campaign whose last window ended more than
/// Issuance:ForgetEndedAfter ago is dropped from the catalog, the in-process gate (rebuilt from the store if it is
/// asked for again) and the remembered winners. Shared state in Redis expires by itself (Redis:KeyTtlAfterEnd).
/// </summary>
public sealed partial class EndedCampaignSweeper : BackgroundService
{
    private readonly CampaignCatalog _catalog;
    private readonly IAdmissionGate _gate;
    private readonly CommittedCoupons _committed;
    private readonly IOptions<IssuanceOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EndedCampaignSweeper> _logger;

    public EndedCampaignSweeper(CampaignCatalog catalog, IAdmissionGate gate, CommittedCoupons committed, IOptions<IssuanceOptions> options,
        TimeProvider time, CouponMetrics metrics, ILogger<EndedCampaignSweeper> logger)
    {
        (_catalog, _gate, _committed, _options, _time, _logger) = (catalog, gate, committed, options, time, logger);
        metrics.Observe("couponlive.campaigns.held", "{campaign}", "Campaigns this process keeps in memory, by part (what the sweep of ended campaigns bounds)",
            () =>
            [
                new(catalog.Count, CouponMetrics.Tag("part", "catalog")),
                new(gate.HeldCampaigns, CouponMetrics.Tag("part", "gate")),
                new(committed.Campaigns, CouponMetrics.Tag("part", "winners")),
            ]);
    }

    /// <summary>Forgets the ended campaigns; how many.</summary>
    public int Sweep()
    {
        var endedBefore = _time.GetUtcNow() - _options.Value.ForgetEndedAfter;
        var forgotten = 0;
        foreach (var campaign in _catalog.Cached)
        {
            if (campaign.Windows.Count == 0 || campaign.Windows[^1].EndsAt > endedBefore) continue;
            _catalog.Forget(campaign.Id);
            _gate.Forget(campaign.Id);
            _committed.Forget(campaign.Id);
            forgotten++;
        }
        if (forgotten > 0) LogForgotten(forgotten);
        return forgotten;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Often enough that a campaign is forgotten soon after its time, rarely enough to cost nothing.
        var interval = TimeSpan.FromSeconds(Math.Clamp(_options.Value.ForgetEndedAfter.TotalSeconds / 4, 1, 60));
        using var timer = new PeriodicTimer(interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken)) Sweep();
    }

    private void LogForgotten(int count) => LogForgotten(_logger, count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Forgot {Count} campaigns that ended long ago")]
    private static partial void LogForgotten(ILogger logger, int count);
}
