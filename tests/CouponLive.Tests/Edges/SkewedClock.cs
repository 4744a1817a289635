namespace CouponLive.Tests.Edges;

/// <summary>The system's clock, off by <paramref name="offset"/>: a process whose clock drifted from the gate's.</summary>
public sealed class SkewedClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
