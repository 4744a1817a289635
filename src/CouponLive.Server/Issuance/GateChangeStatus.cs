namespace CouponLive.Issuance;

public enum GateChangeStatus
{
    Applied,
    /// <summary>The gate holds no state for the campaign: the change was judged on its clock, and the next rebuild reads the store.</summary>
    NotLoaded,
    /// <summary>Refused, nothing changed: the gate has admitted more than the new total quantity.</summary>
    BelowIssued,
    /// <summary>Refused, nothing changed: asked to end the current window, and none is open.</summary>
    NoCurrentWindow,
    /// <summary>Refused, nothing changed: by the gate's clock the change alters a window it may not (<see cref="GateChange.Refusal"/>).</summary>
    WindowStarted,
}
