using CouponLive.Issuance;
using CouponLive.Storage;

namespace CouponLive.Campaigns;

public static class CampaignStatus
{
    public const string Scheduled = "scheduled";
    public const string Open = "open";
    public const string BetweenWindows = "between_windows";
    public const string SoldOut = "sold_out";
    public const string Ended = "ended";
    public const string Paused = "paused";
    public const string Cancelled = "cancelled";

    /// <summary>
    /// The status at <paramref name="now"/> from committed counts: "cancelled" and "paused" first (an operator's
    /// word), else "open" only while a request could be admitted (a window is open and both it and the campaign
    /// have stock).
    /// </summary>
    public static (string Status, int? CurrentWindow, int? NextWindow) Compute(StoredCampaign campaign, CampaignCounts counts, DateTimeOffset now)
    {
        var table = new WindowTable(campaign.Windows);
        var (window, nextStart) = table.Locate(now);
        int? next = nextStart is null ? null : IndexOfStart(campaign, nextStart.Value);
        if (campaign.CancelledAt is not null) return (Cancelled, null, null);
        if (campaign.PausedAt is not null) return (Paused, window >= 0 ? window : null, next);
        if (counts.Issued >= campaign.TotalQuantity) return (SoldOut, null, null);
        if (window >= 0)
        {
            var quotaLeft = campaign.Windows[window].Quota is not int quota || window >= counts.IssuedPerWindow.Count || counts.IssuedPerWindow[window] < quota;
            if (quotaLeft) return (Open, window, next);
            return (next is null ? Ended : BetweenWindows, window, next);
        }
        if (next == 0) return (Scheduled, null, next);
        return next is null ? (Ended, null, null) : (BetweenWindows, null, next);
    }

    private static int IndexOfStart(StoredCampaign campaign, DateTimeOffset start)
    {
        for (var i = 0; i < campaign.Windows.Count; i++)
            if (campaign.Windows[i].StartsAt == start) return i;
        return -1;
    }
}
