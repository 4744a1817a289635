using System.Collections.Concurrent;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Users Redis has just told "sold out", per campaign, remembered for Redis:SoldOutMemory (3 s): the late crowd
/// clicks again and again, and its repeated clicks are answered here without a script call. Only refusals are
/// remembered, never an admission, so no promise rests on it (I1-I6 are untouched); the cost is at most that
/// long of a stale refusal when stock reopens. An entry holds only for the campaign version it was told under
/// (an operator's change misses it, in every process once its catalog has the new version), and a campaign's
/// entries go when this process loads, changes or evicts its gate.
/// Two generations, swapped every period, bound the memory to the refusals of the last two periods.
/// </summary>
public sealed class SoldOutMemory(TimeSpan period, TimeProvider time)
{
    private readonly long _periodTicks = (long)(period.TotalSeconds * time.TimestampFrequency);
    private readonly Lock _swap = new();
    private ConcurrentDictionary<(long Campaign, string User), Told> _current = new();
    private ConcurrentDictionary<(long Campaign, string User), Told> _previous = new();
    private long _swappedAt = time.GetTimestamp();

    public bool Enabled => _periodTicks > 0;

    /// <summary>Entries held now (both generations), for tests.</summary>
    public int Count => _current.Count + _previous.Count;

    /// <summary>True when Redis told this user "sold out" for this version of the campaign within the period.</summary>
    public bool WasToldSoldOut(long campaignId, int version, string userId)
    {
        if (!Enabled) return false;
        var now = time.GetTimestamp();
        var key = (campaignId, userId);
        return (_current.TryGetValue(key, out var told) || _previous.TryGetValue(key, out told))
            && told.Version == version && now - told.At < _periodTicks;
    }

    /// <summary>Remembers a "sold out" answer from Redis.</summary>
    public void Remember(long campaignId, int version, string userId)
    {
        if (!Enabled) return;
        var now = time.GetTimestamp();
        if (now - Volatile.Read(ref _swappedAt) >= _periodTicks) Swap(now);
        _current[(campaignId, userId)] = new Told(version, now);
    }

    /// <summary>Forgets a campaign's refusals: its gate was loaded, changed or evicted here.</summary>
    public void Forget(long campaignId)
    {
        if (!Enabled) return;
        foreach (var generation in new[] { _current, _previous })
            foreach (var key in generation.Keys)
                if (key.Campaign == campaignId) generation.TryRemove(key, out _);
    }

    private void Swap(long now)
    {
        lock (_swap)
        {
            if (now - _swappedAt < _periodTicks) return;
            _previous = _current;
            _current = new ConcurrentDictionary<(long, string), Told>();
            Volatile.Write(ref _swappedAt, now);
        }
    }

    private readonly record struct Told(int Version, long At);
}
