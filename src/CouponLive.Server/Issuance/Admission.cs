namespace CouponLive.Issuance;

/// <summary>
/// A gate decision. <see cref="At"/> is the gate's clock at admission (I4 is judged by it);
/// <see cref="OutboxId"/> names the outbox entry of a fresh admission, if the gate keeps one.
/// </summary>
public readonly record struct Admission(
    AdmissionOutcome Outcome,
    long Sequence = 0,
    DateTimeOffset At = default,
    int WindowIndex = -1,
    DateTimeOffset? OpensAt = null,
    string? OutboxId = null);
