using System.Collections.Concurrent;

namespace CouponLive.Dashboard;

/// <summary>
/// Per-campaign, per-second issue outcomes and a latency histogram, aggregated in this process and
/// handed to an <see cref="ILiveStatsStore"/> once a second, so the live view can add up every process.
/// </summary>
public sealed class LiveStats(TimeProvider time)
{
    public const string RejectedAuth = "rejected_auth";

    /// <summary>Outcomes shown live, in a fixed order (their index is their storage field).</summary>
    public static readonly string[] Outcomes =
        ["issued", "already_issued", "sold_out", "window_sold_out", "not_open", "ended", "unavailable", RejectedAuth];

    /// <summary>Latency bucket upper bounds in ms: 0.05 ms to ~10 s, each 25% wider than the last.</summary>
    public static readonly double[] LatencyBoundsMs = Enumerable.Range(0, 56).Select(i => 0.05 * Math.Pow(1.25, i)).ToArray();

    private readonly ConcurrentDictionary<(long Campaign, long Second), SecondCounts> _open = new();

    /// <summary>Counts one answer; a null latency (e.g. refused before the handler ran) counts the outcome only.</summary>
    public void Record(long campaignId, string outcome, TimeSpan? latency)
    {
        var index = Array.IndexOf(Outcomes, outcome);
        if (index < 0) return;
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        var counts = _open.GetOrAdd((campaignId, second), _ => new SecondCounts());
        Interlocked.Increment(ref counts.Outcomes[index]);
        if (latency is null) return;
        var ms = latency.Value.TotalMilliseconds;
        var bucket = 0;
        while (bucket < LatencyBoundsMs.Length && ms > LatencyBoundsMs[bucket]) bucket++;
        Interlocked.Increment(ref counts.Latency[bucket]);
    }

    /// <summary>Removes and returns the seconds that are over (a second still running stays).</summary>
    public List<(long Campaign, long Second, SecondCounts Counts)> TakeCompleted()
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var done = new List<(long, long, SecondCounts)>();
        foreach (var key in _open.Keys)
            if (key.Second < now && _open.TryRemove(key, out var counts)) done.Add((key.Campaign, key.Second, counts));
        return done;
    }
}

/// <summary>One second of one campaign: outcome counts and latency bucket counts (one extra bucket for "slower").</summary>
public sealed class SecondCounts
{
    public long[] Outcomes { get; } = new long[LiveStats.Outcomes.Length];
    public long[] Latency { get; } = new long[LiveStats.LatencyBoundsMs.Length + 1];

    public void Add(SecondCounts other)
    {
        for (var i = 0; i < Outcomes.Length; i++) Outcomes[i] += other.Outcomes[i];
        for (var i = 0; i < Latency.Length; i++) Latency[i] += other.Latency[i];
    }

    /// <summary>The latency in ms under which <paramref name="quantile"/> of the requests fell (bucket upper bound).</summary>
    public double PercentileMs(double quantile)
    {
        var total = Latency.Sum();
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < Latency.Length; i++)
        {
            seen += Latency[i];
            if (seen >= rank) return i < LiveStats.LatencyBoundsMs.Length ? LiveStats.LatencyBoundsMs[i] : LiveStats.LatencyBoundsMs[^1];
        }
        return LiveStats.LatencyBoundsMs[^1];
    }
}
