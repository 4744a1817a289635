using System.Collections.Concurrent;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Coupons this process has seen committed, by campaign and holder. A winner who clicks again (a double
/// click, a refresh, an impatient retry) is answered from here without the gate, the writer or the store.
/// Only the store's own commit outcome enters, and a stored coupon is never deleted, so an answer from here
/// is as true as one from the store (I5); the answer carries nothing that changes after the commit. Bounded by Issuance:CommittedCouponsRemembered: past it, nothing more is remembered and
/// those winners take the store's path as before.
/// </summary>
public sealed class CommittedCoupons(IOptions<IssuanceOptions> options)
{
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<string, IssuedCoupon>> _byCampaign = new();
    private readonly int _capacity = options.Value.CommittedCouponsRemembered;
    private int _count;

    /// <summary>Coupons remembered now, across campaigns.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Remembers a coupon the store answered as committed.</summary>
    public void Remember(IssuedCoupon coupon)
    {
        if (Volatile.Read(ref _count) >= _capacity) return;
        var holders = _byCampaign.GetOrAdd(coupon.CampaignId, static _ => new ConcurrentDictionary<string, IssuedCoupon>(StringComparer.Ordinal));
        if (holders.TryAdd(coupon.UserId, coupon)) Interlocked.Increment(ref _count);
    }

    /// <summary>The user's committed coupon of the campaign, if this process saw it committed; else null.</summary>
    public IssuedCoupon? Find(long campaignId, string userId) =>
        _byCampaign.TryGetValue(campaignId, out var holders) && holders.TryGetValue(userId, out var coupon) ? coupon : null;

    /// <summary>Forgets a campaign's coupons: its gate is being rebuilt because it disagreed with the store (belt and braces).</summary>
    public void Forget(long campaignId)
    {
        if (_byCampaign.TryRemove(campaignId, out var holders)) Interlocked.Add(ref _count, -holders.Count);
    }
}
