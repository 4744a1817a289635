namespace CouponLive.Storage;

/// <summary>One administrative change of a campaign: who, when, what (pause, resume, update, end_window, cancel) and the fields it changed.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, IReadOnlyList<AuditChange> Changes);
