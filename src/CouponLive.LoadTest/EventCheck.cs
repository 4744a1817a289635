namespace CouponLive.LoadTest;

/// <summary>
/// The outbox after the run: how long after the check began the relay had nothing pending (the broker confirmed
/// everything, or the feed alone took it), and, when read, whether the campaign's issued events match its stored coupons.
/// </summary>
public sealed record EventCheck(int? IssuedEvents, int CouponsWithoutEvent, int EventsWithoutCoupon, double? DrainedAfterSeconds, long PendingLeft)
{
    public override string ToString()
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        var matched = IssuedEvents is { } n
            ? string.Create(c, $"{n:N0} issued events, {CouponsWithoutEvent:N0} coupons without one, {EventsWithoutCoupon:N0} without a coupon; ")
            : "";
        var drained = DrainedAfterSeconds is { } s
            ? string.Create(c, $"nothing pending {s:F2} s after the run")
            : string.Create(c, $"{PendingLeft:N0} still pending after {EventsCheckTimeout.TotalSeconds:F0} s");
        return "outbox: " + matched + drained;
    }

    public static readonly TimeSpan EventsCheckTimeout = TimeSpan.FromSeconds(60);
}
