namespace CouponLive.Issuance;

/// <summary>
/// The answer of <see cref="IAdmissionGate.ChangeAsync"/>: its status, the gate's clock and admitted count at the
/// change, and, when it ended the current window, that window and its new end (one millisecond after the change,
/// so every admission before it lies inside the window).
/// </summary>
public sealed record GateChange(GateChangeStatus Status, DateTimeOffset Now = default, int Issued = 0, int EndedWindow = -1, DateTimeOffset EndedAt = default);
