namespace CouponLive.Issuance;

/// <summary>
/// An admission recorded by the gate before its commit, so a crash cannot lose it (I6). <see cref="Id"/>
/// names its outbox entry, which holds all admissions of one gate call.
/// </summary>
public sealed record OutboxEntry(string Id, long CampaignId, string UserId, long Sequence, DateTimeOffset At, CouponSource Source);
