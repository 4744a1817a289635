namespace CouponLive.Issuance;

public enum GateChangeStatus
{
    Applied,
    /// <summary>The gate holds no state for the campaign: nothing to change, the next load reads the store.</summary>
    NotLoaded,
    /// <summary>Refused, nothing changed: the gate has admitted more than the new total quantity.</summary>
    BelowIssued,
    /// <summary>Refused, nothing changed: asked to end the current window, and none is open.</summary>
    NoCurrentWindow,
}
