namespace CouponLive.Dashboard;

/// <summary>One second of a campaign's answers, summed over every process: counts by outcome and latency percentiles.</summary>
public sealed record LiveSecondView(long T, long[] Outcomes, double P50Ms, double P99Ms);
