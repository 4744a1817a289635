namespace CouponLive.Grants;

/// <summary>A campaign's grants, newest first.</summary>
public sealed record GrantList(IReadOnlyList<GrantResponse> Items);
