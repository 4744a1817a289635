using CouponLive.Campaigns;

namespace CouponLive.Issuance;

/// <summary>Sorted, non-overlapping half-open windows [start, end) with a fast lookup by instant.</summary>
public sealed class WindowTable(IReadOnlyList<CampaignWindow> windows)
{
    private readonly long[] _starts = windows.Select(w => w.StartsAt.UtcTicks).ToArray();
    private readonly long[] _ends = windows.Select(w => w.EndsAt.UtcTicks).ToArray();

    public int Count => _starts.Length;

    public int? Quota(int index) => windows[index].Quota;

    /// <summary>The window open at <paramref name="now"/> (or -1) and the start of the next window after it (or null).</summary>
    public (int Window, DateTimeOffset? NextStart) Locate(DateTimeOffset now)
    {
        var t = now.UtcTicks;
        // Index of the last window starting at or before now.
        var i = Array.BinarySearch(_starts, t);
        if (i < 0) i = ~i - 1;
        var next = i + 1 < _starts.Length ? windows[i + 1].StartsAt : (DateTimeOffset?)null;
        return i >= 0 && t < _ends[i] ? (i, next) : (-1, next);
    }
}
