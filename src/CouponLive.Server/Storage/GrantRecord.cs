namespace CouponLive.Storage;

/// <summary>
/// A bulk grant as stored: its number (which its coupons carry), who asked when, and its counts so far. Done
/// once every user has an outcome.
/// </summary>
public sealed record GrantRecord(
    int GrantNo,
    long CampaignId,
    string GrantId,
    string Actor,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DoneAt,
    int Requested,
    int Issued,
    int AlreadyHeld,
    int SoldOut,
    int Invalid,
    int Cancelled);
