using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Notices a Redis that restarted or failed over (its run id changed). Its data may be stale or gone:
/// every campaign's gate is evicted so the next request rebuilds it from the store (503 meanwhile).
/// Missing keys are caught anyway (the script answers "not loaded"); this catches stale ones.
/// </summary>
public sealed partial class RedisMonitor(IConnectionMultiplexer redis, RedisAdmissionGate gate, TimeProvider time, ILogger<RedisMonitor> logger) : BackgroundService
{
    private string? _runId;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var runId = await ReadRunIdAsync();
                if (runId is null) continue;
                if (_runId is not null && runId != _runId)
                {
                    var campaigns = await gate.KnownCampaignsAsync(stoppingToken);
                    LogRunIdChanged(_runId, runId, campaigns.Count);
                    foreach (var id in campaigns) await gate.EvictAsync(id, stoppingToken);
                }
                _runId = runId;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogCheckFailed(ex.Message);
            }
        }
    }

    private async Task<string?> ReadRunIdAsync()
    {
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (!server.IsConnected || server.IsSlave) continue;
            foreach (var group in await server.InfoAsync("server"))
                foreach (var pair in group)
                    if (pair.Key == "run_id") return pair.Value;
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis run id changed from {Old} to {New}: rebuilding the gates of {Count} campaigns from the store")]
    private partial void LogRunIdChanged(string old, string @new, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Redis identity check failed: {Reason}")]
    private partial void LogCheckFailed(string reason);
}

public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"redis {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("redis unreachable", ex);
        }
    }
}
