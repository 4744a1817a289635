namespace CouponLive.Grants;

/// <summary>A bulk grant: an id of the caller's choosing (1-100 printable characters; the same id again is the same grant) and up to 100,000 user ids.</summary>
public sealed record GrantRequest(string? GrantId, IReadOnlyList<string?>? UserIds);
