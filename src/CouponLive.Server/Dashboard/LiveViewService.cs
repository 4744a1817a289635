using CouponLive.Campaigns;
using CouponLive.Storage;

namespace CouponLive.Dashboard;

/// <summary>What the live view shows of a campaign at a moment: counts and status, the last two minutes by second, the newest codes.</summary>
public sealed class LiveViewService(ICouponStore store, CampaignCatalog catalog, ILiveStatsStore live, TimeProvider time)
{
    public const int HistorySeconds = 120;
    public const int RecentCoupons = 12;

    /// <summary>The campaign the view is about, or not found.</summary>
    public async Task<StoredCampaign?> FindAsync(string? id, CancellationToken ct) =>
        CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;

    public async Task<LiveSnapshot> SnapshotAsync(StoredCampaign campaign, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var counts = await store.GetCountsAsync(campaign.Id, ct);
        var nowSecond = now.ToUnixTimeSeconds();
        var seconds = (await live.ReadAsync(campaign.Id, nowSecond - HistorySeconds, nowSecond))
            .Select(s => new LiveSecondView(s.Second, s.Counts.Outcomes, s.Counts.PercentileMs(0.50), s.Counts.PercentileMs(0.99)))
            .ToList();
        var recent = (await store.ListRecentCouponsAsync(campaign.Id, RecentCoupons, ct))
            .Select(c => new CouponItem(c.Code, c.UserId, c.Sequence, c.IssuedAt, CouponStatus.Of(c, campaign, now), c.OrderId, c.RedeemedAt)).ToList();
        return new LiveSnapshot(CampaignService.ToResponse(campaign, counts, now), LiveStats.Outcomes, seconds, recent);
    }
}
