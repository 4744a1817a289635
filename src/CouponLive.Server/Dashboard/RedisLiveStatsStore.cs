using System.Globalization;
using CouponLive.Issuance.Redis;
using StackExchange.Redis;

namespace CouponLive.Dashboard;

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
