using System.Collections.Concurrent;
using System.Globalization;
using CouponLive.Issuance.Redis;
using StackExchange.Redis;

namespace CouponLive.Dashboard;

/// <summary>Where every process's per-second figures meet: in memory (embedded) or in Redis (production).</summary>
public interface ILiveStatsStore
{
    Task PublishAsync(IReadOnlyList<(long Campaign, long Second, SecondCounts Counts)> seconds);

    /// <summary>The figures of seconds [from, to], missing seconds left out.</summary>
    Task<IReadOnlyList<(long Second, SecondCounts Counts)>> ReadAsync(long campaignId, long fromSecond, long toSecond);
}

public sealed class InMemoryLiveStatsStore(TimeProvider time) : ILiveStatsStore
{
    private const long KeepSeconds = 900;
    private readonly ConcurrentDictionary<(long Campaign, long Second), SecondCounts> _seconds = new();

    public Task PublishAsync(IReadOnlyList<(long Campaign, long Second, SecondCounts Counts)> seconds)
    {
        foreach (var (campaign, second, counts) in seconds)
        {
            var merged = _seconds.GetOrAdd((campaign, second), _ => new SecondCounts());
            lock (merged) merged.Add(counts);
        }
        var oldest = time.GetUtcNow().ToUnixTimeSeconds() - KeepSeconds;
        foreach (var key in _seconds.Keys)
            if (key.Second < oldest) _seconds.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<(long Second, SecondCounts Counts)>> ReadAsync(long campaignId, long fromSecond, long toSecond)
    {
        var result = new List<(long, SecondCounts)>();
        for (var s = fromSecond; s <= toSecond; s++)
        {
            if (!_seconds.TryGetValue((campaignId, s), out var counts)) continue;
            var copy = new SecondCounts();
            lock (counts) copy.Add(counts);
            result.Add((s, copy));
        }
        return Task.FromResult<IReadOnlyList<(long, SecondCounts)>>(result);
    }
}

/// <summary>One hash per campaign and second (fields o0.. outcomes, l0.. latency buckets), kept 15 minutes.</summary>
public sealed class RedisLiveStatsStore(IConnectionMultiplexer redis, RedisKeys keys) : ILiveStatsStore
{
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(15);

    private RedisKey Key(long campaignId, long second) => keys.LiveSecond(campaignId, second);

    public async Task PublishAsync(IReadOnlyList<(long Campaign, long Second, SecondCounts Counts)> seconds)
    {
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var pending = new List<Task>();
        foreach (var (campaign, second, counts) in seconds)
        {
            var key = Key(campaign, second);
            for (var i = 0; i < counts.Outcomes.Length; i++)
                if (counts.Outcomes[i] != 0) pending.Add(batch.HashIncrementAsync(key, "o" + i.ToString(CultureInfo.InvariantCulture), counts.Outcomes[i]));
            for (var i = 0; i < counts.Latency.Length; i++)
                if (counts.Latency[i] != 0) pending.Add(batch.HashIncrementAsync(key, "l" + i.ToString(CultureInfo.InvariantCulture), counts.Latency[i]));
            pending.Add(batch.KeyExpireAsync(key, Keep));
        }
        batch.Execute();
        await Task.WhenAll(pending);
    }

    public async Task<IReadOnlyList<(long Second, SecondCounts Counts)>> ReadAsync(long campaignId, long fromSecond, long toSecond)
    {
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var reads = new List<(long Second, Task<HashEntry[]> Fields)>();
        for (var s = fromSecond; s <= toSecond; s++) reads.Add((s, batch.HashGetAllAsync(Key(campaignId, s))));
        batch.Execute();
        var result = new List<(long, SecondCounts)>();
        foreach (var (second, task) in reads)
        {
            var fields = await task;
            if (fields.Length == 0) continue;
            var counts = new SecondCounts();
            foreach (var field in fields)
            {
                var name = (string)field.Name!;
                var index = int.Parse(name.AsSpan(1), CultureInfo.InvariantCulture);
                var target = name[0] == 'o' ? counts.Outcomes : counts.Latency;
                if (index < target.Length) target[index] = (long)field.Value;
            }
            result.Add((second, counts));
        }
        return result;
    }
}

/// <summary>Hands this process's finished seconds to the shared store, once a second.</summary>
public sealed partial class LiveStatsPublisher(LiveStats stats, ILiveStatsStore store, TimeProvider time, ILogger<LiveStatsPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var done = stats.TakeCompleted();
            if (done.Count == 0) continue;
            try
            {
                await store.PublishAsync(done);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(ex.Message); // live figures are best effort: a lost second is not a lost coupon
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing live figures failed: {Reason}")]
    private partial void LogPublishFailed(string reason);
}
