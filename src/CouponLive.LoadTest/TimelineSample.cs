namespace CouponLive.LoadTest;

/// <summary>One second of the run, by completion time.</summary>
public sealed record TimelineSample(int Second, long Requests, long Issued, long IssuedTotal, long SoldOut, long Errors, double P50Ms, double P90Ms, double P99Ms, double MaxMs);
