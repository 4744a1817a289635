namespace CouponLive.LoadTest;

/// <summary>
/// A log-linear (HDR-style) histogram of microsecond values: exact below 128 µs, then 64 linear
/// sub-buckets per power of two, so every recorded value is within 1.6% of its bucket. Recording
/// is one Interlocked.Increment, safe from any thread; 2,048 buckets cover up to ~19 hours.
/// </summary>
public sealed class Histogram
{
    private const int SubBits = 6;
    private const int SubCount = 1 << SubBits;   // 64
    public const int BucketCount = 2048;
    private const long MaxValue = (1L << 36) - 1; // µs

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _max;
    private long _sum;

    public long Count => Volatile.Read(ref _total);
    public long Max => Volatile.Read(ref _max);
    public double Mean => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    public static int IndexOf(long value)
    {
        if (value < 0) value = 0;
        if (value > MaxValue) value = MaxValue;
        var magnitude = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value | 1);
        var shift = Math.Max(0, magnitude - SubBits);
        return (shift * SubCount) + (int)(value >> shift);
    }

    /// <summary>The highest value that falls into the bucket (what a percentile reports).</summary>
    public static long HighestOf(int index)
    {
        var shift = index < 2 * SubCount ? 0 : (index / SubCount) - 1;
        var mantissa = index - (shift * SubCount);
        return ((long)(mantissa + 1) << shift) - 1;
    }

    public void Record(long micros)
    {
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _total);
        Interlocked.Add(ref _sum, micros);
        var max = Volatile.Read(ref _max);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max) break;
            max = seen;
        }
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            var c = Volatile.Read(ref other._counts[i]);
            if (c != 0) Interlocked.Add(ref _counts[i], c);
        }
        Interlocked.Add(ref _total, other.Count);
        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        if (other.Max > _max) _max = other.Max;
    }

    /// <summary>The value at percentile p (0-100): the top of the bucket holding that rank, capped at the max seen.</summary>
    public long Percentile(double p)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(p / 100.0 * total);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(HighestOf(i), Max);
        }
        return Max;
    }
}
