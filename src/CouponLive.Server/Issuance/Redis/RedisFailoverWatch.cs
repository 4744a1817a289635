using System.Collections.Concurrent;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Checks, each second and per active campaign, that its gate state in Redis can still be trusted, and evicts it when
/// not (the next request rebuilds it from the store):
/// <list type="bullet">
/// <item>the Redis node holding it is not the node that loaded it: a replica promoted by Redis Cluster or Sentinel
/// (replication is asynchronous, so the last admissions may be missing there), a node restarted with old data, or a
/// slot moved to another shard;</item>
/// <item>its version has differed from the store's on two checks in a row while no change held the campaign lock: a
/// change that reached the gate but whose store transaction never committed (its process died, or the store failed and
/// Redis was unreachable when the change tried to drop the gate).</item>
/// </list>
/// Until then the store's constraints still refuse whatever a stale gate admits wrongly; this makes the healing prompt.
/// </summary>
public sealed partial class RedisFailoverWatch(
    RedisAdmissionGate gate,
    ICouponStore store,
    IOptions<RedisGateOptions> gateOptions,
    CouponMetrics metrics,
    TimeProvider time,
    ILogger<RedisFailoverWatch> logger) : BackgroundService
{
    private readonly RedisGateOptions _options = gateOptions.Value;
    private readonly ConcurrentDictionary<long, string> _suspects = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.OwnerCheckInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            IReadOnlyDictionary<long, int> versions;
            try
            {
                var campaigns = await gate.KnownCampaignsAsync(stoppingToken);
                versions = await store.GetCampaignVersionsAsync([.. campaigns], stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCheckFailed(0, ex.Message);
                continue;
            }
            foreach (var id in _suspects.Keys)
                if (!versions.ContainsKey(id)) _suspects.TryRemove(id, out _);
            // Concurrently: each campaign may live on another shard, and one unreachable shard must not delay the rest.
            await Task.WhenAll(versions.Select(v => CheckAsync(v.Key, v.Value)));
        }
    }

    private async Task CheckAsync(long campaignId, int storeVersion)
    {
        try
        {
            var answer = await gate.CheckStateAsync(campaignId, storeVersion, _suspects.GetValueOrDefault(campaignId));
            if (answer.StartsWith("suspect:", StringComparison.Ordinal))
            {
                _suspects[campaignId] = answer["suspect:".Length..];
                return;
            }
            _suspects.TryRemove(campaignId, out _);
            if (!answer.StartsWith("evicted:", StringComparison.Ordinal)) return;
            var why = answer["evicted:".Length..];
            metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", why.StartsWith("node", StringComparison.Ordinal) ? "owner_changed" : "version_differs"));
            LogEvicted(campaignId, why);
        }
        catch (Exception ex)
        {
            LogCheckFailed(campaignId, ex.Message); // a shard in failover: checked again next tick
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: its gate state cannot be trusted ({Why}); it is rebuilt from the store")]
    private partial void LogEvicted(long campaignId, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis state check of campaign {CampaignId} failed: {Reason}")]
    private partial void LogCheckFailed(long campaignId, string reason);
}
