namespace CouponLive.Grants;

/// <summary>A grant as posted: new (Created) or the one that already had this id (nothing changed).</summary>
public sealed record GrantCreated(GrantResponse Grant, bool Created);
