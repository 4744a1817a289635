namespace CouponLive.Campaigns;

/// <summary>Why <see cref="WindowChangeRule"/> refuses a change, and at which window (its index in the campaign as it is).</summary>
public readonly record struct WindowRefusal(int Index, WindowRefusalKind Kind);
