using System.Collections.Concurrent;

namespace CouponLive.Dashboard;

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
