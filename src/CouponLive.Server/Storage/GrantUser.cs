namespace CouponLive.Storage;

/// <summary>One user of a grant, at its position in the request: its outcome (null until decided) and the code it holds.</summary>
public sealed record GrantUser(int Position, string UserId, string? Outcome, string? Code);
