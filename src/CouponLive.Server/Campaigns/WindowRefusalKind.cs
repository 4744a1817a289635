namespace CouponLive.Campaigns;

/// <summary>The reasons of <see cref="WindowChangeRule"/>; the numbers are change.lua's answers.</summary>
public enum WindowRefusalKind
{
    /// <summary>The window has started (or holds coupons): its place, start and quota stay.</summary>
    Started = 1,
    /// <summary>The window has ended: its end stays.</summary>
    EndedEndChanged = 2,
    /// <summary>The open window would end at or before now.</summary>
    OpenEndsInPast = 3,
    /// <summary>A new or changed window would start at or before now.</summary>
    StartsInPast = 4,
}
