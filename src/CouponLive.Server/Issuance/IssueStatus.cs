namespace CouponLive.Issuance;

public enum IssueStatus
{
    Issued,
    AlreadyIssued,
    NotFound,
    NotOpen,
    Ended,
    SoldOut,
    WindowSoldOut,
    Unavailable,
    /// <summary>The caller asked for another user's coupon without a service token (I7).</summary>
    Forbidden,
    /// <summary>The user named for a service token's request is not a usable user id.</summary>
    InvalidUser,
    /// <summary>The user sent more issue requests than a person can (RateLimits:IssuePerUser*); answered before the gate.</summary>
    RateLimited,
    /// <summary>An operator paused the campaign; holders still get their coupon.</summary>
    Paused,
    /// <summary>An operator cancelled the campaign.</summary>
    Cancelled,
}
