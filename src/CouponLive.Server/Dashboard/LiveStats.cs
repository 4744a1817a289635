using System.Collections.Concurrent;

namespace CouponLive.Dashboard;

/// <summary>
/// Per-campaign, per-second issue outcomes and a latency histogram, aggregated in this process and
/// handed to an <see cref="ILiveStatsStore"/> once a second, so the live view can add up every process.
/// </summary>
public sealed class LiveStats(TimeProvider time)
{
    public const string RejectedAuth = "rejected_auth";
    public const string RateLimited = "rate_limited";

    /// <summary>Outcomes shown live, in a fixed order (their index is their storage field).</summary>
    public static readonly string[] Outcomes =
        ["issued", "already_issued", "sold_out", "window_sold_out", "not_open", "ended", "unavailable", RejectedAuth, RateLimited, "paused", "cancelled"];

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
