using System.Collections.Concurrent;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Coupons this process has seen committed, by campaign and holder. A winner who clicks again (a double click, a
/// refresh, an impatient retry) is answered from here without the gate, the writer or the store. Only the store's own
/// commit outcome enters, and a stored coupon is never deleted, so an answer from here is as true as one from the store
/// (I5); the answer carries nothing that changes after the commit.
/// Bounded by Issuance:CommittedCouponsRemembered: when full, whole campaigns are forgotten, the one remembered into
/// longest ago first, so a sale running now keeps its winners while older sales make room (a campaign alone larger
/// than the bound starts over). A forgotten holder's next click takes the store's path once and is remembered again.
/// Ended campaigns are forgotten by the sweep of ended campaigns.
/// </summary>
public sealed class CommittedCoupons(IOptions<IssuanceOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<long, Holders> _byCampaign = new();
    private readonly int _capacity = options.Value.CommittedCouponsRemembered;
    private readonly Lock _evict = new();
    private int _count;

    /// <summary>Coupons remembered now, across campaigns.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Campaigns with coupons remembered now.</summary>
    public int Campaigns => _byCampaign.Count;

    /// <summary>Remembers a coupon the store answered as committed.</summary>
    public void Remember(IssuedCoupon coupon)
    {
        if (_capacity == 0) return;
        if (Volatile.Read(ref _count) >= _capacity) MakeRoom(coupon.CampaignId);
        var holders = _byCampaign.GetOrAdd(coupon.CampaignId, static _ => new Holders());
        holders.TouchedAt = time.GetTimestamp();
        if (holders.Coupons.TryAdd(coupon.UserId, coupon)) Interlocked.Increment(ref _count);
    }

    /// <summary>The user's committed coupon of the campaign, if this process saw it committed; else null.</summary>
    public IssuedCoupon? Find(long campaignId, string userId) =>
        _byCampaign.TryGetValue(campaignId, out var holders) && holders.Coupons.TryGetValue(userId, out var coupon) ? coupon : null;

    /// <summary>Forgets a campaign's coupons (it ended long ago).</summary>
    public void Forget(long campaignId)
    {
        if (_byCampaign.TryRemove(campaignId, out var holders)) Interlocked.Add(ref _count, -holders.Coupons.Count);
    }

    private void MakeRoom(long adding)
    {
        lock (_evict)
        {
            // Recounted: a coupon remembered into a campaign just as it was forgotten counted without staying.
            Volatile.Write(ref _count, _byCampaign.Values.Sum(h => h.Coupons.Count));
            while (Volatile.Read(ref _count) >= _capacity)
            {
                var oldest = _byCampaign.Where(c => c.Key != adding).OrderBy(c => c.Value.TouchedAt).Select(c => (long?)c.Key).FirstOrDefault();
                Forget(oldest ?? adding); // only the campaign being added to is left: it starts over
            }
        }
    }

    private sealed class Holders
    {
        public readonly ConcurrentDictionary<string, IssuedCoupon> Coupons = new(StringComparer.Ordinal);
        public long TouchedAt;
    }
}
