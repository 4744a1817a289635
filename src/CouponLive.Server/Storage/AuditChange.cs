namespace CouponLive.Storage;

/// <summary>A field an administrative change changed, with its value before and after as text (null: none).</summary>
public sealed record AuditChange(string Field, string? From, string? To);
