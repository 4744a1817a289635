using System.Globalization;

namespace CouponLive.Campaigns;

/// <summary>
/// Which windows a change may alter, judged on the gate's clock at the instant the gate applies the change (the
/// in-process gate calls <see cref="Check"/>; change.lua does the same in Redis, on Redis's clock): a window that
/// has started keeps its place, start and quota; one that has ended keeps its end; the open one may end at any time
/// after now; every other window starts after now. So no change can put an admission already made outside its
/// window (I4). <see cref="CheckHeld"/> adds what the store knows: a window that holds coupons is never moved,
/// re-quota'd or dropped, whatever any clock says.
/// </summary>
public static class WindowChangeRule
{
    public static WindowRefusal? Check(IReadOnlyList<CampaignWindow> before, IReadOnlyList<CampaignWindow> after, DateTimeOffset now)
    {
        var started = before.Count(w => w.StartsAt <= now); // windows are sorted and do not overlap
        for (var i = 0; i < started; i++)
        {
            if (i >= after.Count || after[i].StartsAt != before[i].StartsAt || after[i].Quota != before[i].Quota)
                return new WindowRefusal(i, WindowRefusalKind.Started);
            var ended = before[i].EndsAt <= now;
            if (ended && after[i].EndsAt != before[i].EndsAt) return new WindowRefusal(i, WindowRefusalKind.EndedEndChanged);
            if (!ended && after[i].EndsAt <= now) return new WindowRefusal(i, WindowRefusalKind.OpenEndsInPast);
        }
        for (var i = started; i < after.Count; i++)
        {
            if (after[i].StartsAt <= now) return new WindowRefusal(i, WindowRefusalKind.StartsInPast);
        }
        return null;
    }

    /// <summary>The first window holding committed coupons that the change would move, re-quota or drop.</summary>
    public static WindowRefusal? CheckHeld(IReadOnlyList<CampaignWindow> before, IReadOnlyList<CampaignWindow> after, IReadOnlyList<int> issuedPerWindow)
    {
        for (var i = 0; i < before.Count && i < issuedPerWindow.Count; i++)
        {
            if (issuedPerWindow[i] > 0 && (i >= after.Count || after[i].StartsAt != before[i].StartsAt || after[i].Quota != before[i].Quota))
                return new WindowRefusal(i, WindowRefusalKind.Started);
        }
        return null;
    }

    public static ServiceFailure Failure(WindowRefusal refusal, IReadOnlyList<CampaignWindow> before)
    {
        var i = refusal.Index;
        var path = string.Create(CultureInfo.InvariantCulture, $"windows[{i}]");
        return refusal.Kind switch
        {
            WindowRefusalKind.Started => new ServiceFailure(ErrorCodes.WindowStarted, path,
                string.Create(CultureInfo.InvariantCulture, $"Window {i} has started ({Instants.Text(before[i].StartsAt)}): it stays in the list with its start and quota.")),
            WindowRefusalKind.EndedEndChanged => new ServiceFailure(ErrorCodes.WindowStarted, path + ".endsAt",
                string.Create(CultureInfo.InvariantCulture, $"Window {i} has ended; its end cannot change.")),
            WindowRefusalKind.OpenEndsInPast => new ServiceFailure(ErrorCodes.WindowStarted, path + ".endsAt",
                "The open window cannot end in the past; end it now with POST /api/v1/campaigns/{id}/windows/current/end."),
            _ => new ServiceFailure(ErrorCodes.WindowStarted, path + ".startsAt", "A new or changed window must start in the future."),
        };
    }
}
