namespace CouponLive.Events;

/// <summary>GET /api/v1/events/backlog: what waits for the broker, how old the oldest of it is, and what was parked.</summary>
public sealed record EventBacklogView(string Transport, long Pending, double? OldestPendingSeconds, long Parked);
