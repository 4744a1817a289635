using CouponLive.Campaigns;

namespace CouponLive.Issuance;

/// <summary>
/// The answer of <see cref="IAdmissionGate.ChangeAsync"/>: its status and the gate's clock at the change; the gate's
/// admitted count (when it has state); when asked to end the current window, that window and its new end (one
/// millisecond after the change, so every admission before it lies inside the window); and why the window rule
/// refused, if it did.
/// </summary>
public sealed record GateChange(
    GateChangeStatus Status,
    DateTimeOffset Now,
    int Issued = 0,
    int EndedWindow = -1,
    DateTimeOffset EndedAt = default,
    WindowRefusal? Refusal = null)
{
    /// <summary>The gate took the change, or has no state to take it (the next rebuild reads the store): either way the store may commit it.</summary>
    public bool Accepted => Status is GateChangeStatus.Applied or GateChangeStatus.NotLoaded;
}
