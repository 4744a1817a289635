namespace CouponLive.Storage;

/// <summary>What a grant did for one user.</summary>
public static class GrantOutcome
{
    public const string Issued = "issued";
    public const string AlreadyHeld = "already_held";
    public const string SoldOut = "sold_out";
    /// <summary>Not a usable user id, or listed before in the same grant.</summary>
    public const string Invalid = "invalid";
    /// <summary>The campaign was cancelled before the user's turn.</summary>
    public const string Cancelled = "cancelled";
}
