namespace CouponLive.Dashboard;

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
