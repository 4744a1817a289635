using HdrHistogram;

namespace CouponLive.LoadTest;

public sealed record LatencySummary(double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs)
{
    /// <summary>Percentiles of a histogram of µs, in ms (0 for an empty histogram).</summary>
    public static LatencySummary Of(HistogramBase h) => h.TotalCount == 0
        ? new(0, 0, 0, 0, 0, 0)
        : new(Ms(h.GetValueAtPercentile(50)), Ms(h.GetValueAtPercentile(90)), Ms(h.GetValueAtPercentile(99)), Ms(h.GetValueAtPercentile(99.9)),
            Ms(h.GetMaxValue()), Math.Round(h.GetMean() / 1000.0, 3));

    private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
}
