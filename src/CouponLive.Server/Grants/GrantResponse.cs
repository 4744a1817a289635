using CouponLive.Storage;

namespace CouponLive.Grants;

/// <summary>
/// A grant's progress: "running" until every user has an outcome, then "done"; the counts add up to
/// <see cref="Requested"/> when done. <see cref="Results"/>: a page of per-user outcomes (in request order) when asked.
/// </summary>
public sealed record GrantResponse(
    string GrantId,
    long CampaignId,
    string Status,
    int Requested,
    int Issued,
    int AlreadyHeld,
    int SoldOut,
    int Invalid,
    int Cancelled,
    string Actor,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DoneAt,
    IReadOnlyList<GrantUser>? Results = null,
    int? Next = null);
