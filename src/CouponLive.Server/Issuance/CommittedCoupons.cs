using System.Collections.Concurrent;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Coupons this process has seen committed, by campaign and holder. A winner who clicks again (a double
/// click, a refresh, an impatient retry) is answered from here without the gate, the writer or the store.
/// Only the store's own commit outcome enters, and a stored coupon is never deleted, so an answer from here
/// is as true as one from the store (I5); the answer carries nothing that changes after the commit.
/// Bounded by Issuance:CommittedCouponsRemembered: when full it starts over (ended campaigns' holders go
/// with it), and a forgotten holder's next click takes the store's path once and is remembered again.
/// </summary>
public sealed class CommittedCoupons(IOptions<IssuanceOptions> options)
{
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<string, IssuedCoupon>> _byCampaign = new();
    private readonly int _capacity = options.Value.CommittedCouponsRemembered;
    private readonly Lock _reset = new();
    private int _count;

    /// <summary>Coupons remembered now, across campaigns.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Remembers a coupon the store answered as committed.</summary>
    public void Remember(IssuedCoupon coupon)
    {
        if (_capacity == 0) return;
        if (Volatile.Read(ref _count) >= _capacity) StartOver();
        var holders = _byCampaign.GetOrAdd(coupon.CampaignId, static _ => new ConcurrentDictionary<string, IssuedCoupon>(StringComparer.Ordinal));
        if (holders.TryAdd(coupon.UserId, coupon)) Interlocked.Increment(ref _count);
    }

    /// <summary>The user's committed coupon of the campaign, if this process saw it committed; else null.</summary>
    public IssuedCoupon? Find(long campaignId, string userId) =>
        _byCampaign.TryGetValue(campaignId, out var holders) && holders.TryGetValue(userId, out var coupon) ? coupon : null;

    private void StartOver()
    {
        lock (_reset)
        {
            if (Volatile.Read(ref _count) < _capacity) return; // another caller started over already
            _byCampaign.Clear();
            Volatile.Write(ref _count, 0);
        }
    }
}
