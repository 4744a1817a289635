namespace CouponLive.Issuance;

public enum AdmissionOutcome
{
    Admitted,
    /// <summary>The user was admitted before: the same sequence number again, so retries are idempotent.</summary>
    AlreadyAdmitted,
    NotOpen,
    Ended,
    SoldOut,
    WindowSoldOut,
    /// <summary>The campaign is paused by an operator.</summary>
    Paused,
    /// <summary>The campaign was cancelled by an operator.</summary>
    Cancelled,
    /// <summary>The gate holds no state for the campaign: load it from the store and ask again.</summary>
    NotLoaded,
    /// <summary>The gate could not decide (Redis unreachable): answer 503, the client retries.</summary>
    Unavailable,
}
