namespace CouponLive.Issuance;

/// <summary>
/// A gate decision. <see cref="At"/> is the gate's clock at admission (I4 is judged by it), and <see cref="Source"/>
/// the window (or grant) it admitted into, for an admission or a holder; <see cref="OutboxId"/> names the outbox
/// entry of a fresh admission, if the gate keeps one.
/// </summary>
public readonly record struct Admission(
    AdmissionOutcome Outcome,
    long Sequence = 0,
    DateTimeOffset At = default,
    CouponSource Source = default,
    DateTimeOffset? OpensAt = null,
    string? OutboxId = null);
