using CouponLive.Diagnostics;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Notices, per campaign, that the Redis node holding its gate state is not the node that loaded it: a
/// replica promoted by Redis Cluster or Sentinel (replication is asynchronous, so the last admissions may
/// be missing there), a node restarted with old data, or a slot moved to another shard. The state is then
/// evicted, and the next request rebuilds it from the store. Until then the store's constraints still
/// refuse whatever a stale gate admits wrongly; this only makes the healing prompt.
/// </summary>
public sealed partial class RedisFailoverWatch(
    RedisAdmissionGate gate,
    IOptions<RedisGateOptions> gateOptions,
    CouponMetrics metrics,
    TimeProvider time,
    ILogger<RedisFailoverWatch> logger) : BackgroundService
{
    private readonly RedisGateOptions _options = gateOptions.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.OwnerCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            IReadOnlyList<long> campaigns;
            try
            {
                campaigns = await gate.KnownCampaignsAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCheckFailed(0, ex.Message);
                continue;
            }
            // Concurrently: each campaign may live on another shard, and one unreachable shard must not delay the rest.
            await Task.WhenAll(campaigns.Select(CheckAsync));
        }
    }

    private async Task CheckAsync(long campaignId)
    {
        try
        {
            if (await gate.EvictIfOwnerChangedAsync(campaignId) is { } change)
            {
                metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "owner_changed"));
                LogOwnerChanged(campaignId, change);
            }
        }
        catch (Exception ex)
        {
            LogCheckFailed(campaignId, ex.Message); // a shard in failover: checked again next tick
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: its Redis node changed (loader>now: {Change}); its gate is rebuilt from the store")]
    private partial void LogOwnerChanged(long campaignId, string change);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis owner check of campaign {CampaignId} failed: {Reason}")]
    private partial void LogCheckFailed(long campaignId, string reason);
}
