using CouponLive.Storage;

namespace CouponLive.Issuance;

public enum AdmissionOutcome
{
    Admitted,
    /// <summary>The user was admitted before: the same sequence number again, so retries are idempotent.</summary>
    AlreadyAdmitted,
    NotOpen,
    Ended,
    SoldOut,
    WindowSoldOut,
    /// <summary>The gate holds no state for the campaign: load it from the store and ask again.</summary>
    NotLoaded,
    /// <summary>The gate could not decide (Redis unreachable): answer 503, the client retries.</summary>
    Unavailable,
}

/// <summary>
/// An admission recorded by the gate before its commit, so a crash cannot lose it (I6). <see cref="Id"/>
/// names its outbox entry, which holds all admissions of one gate call.
/// </summary>
public sealed record OutboxEntry(string Id, long CampaignId, string UserId, long Sequence, DateTimeOffset At, int WindowIndex);

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

/// <summary>
/// Decides I1 (stock), I2 (one per user) and I4 (windows) for each issue request, in memory,
/// so that only admitted requests reach the database.
/// </summary>
public interface IAdmissionGate
{
    ValueTask<Admission> AdmitAsync(StoredCampaign campaign, string userId, CancellationToken ct);

    ValueTask<bool> IsLoadedAsync(long campaignId, CancellationToken ct);

    /// <summary>Replaces the campaign's gate state with what the store has committed.</summary>
    ValueTask LoadAsync(StoredCampaign campaign, GateSnapshot snapshot, CancellationToken ct);

    /// <summary>Drops the campaign's state so the next request rebuilds it from the store.</summary>
    ValueTask EvictAsync(long campaignId, CancellationToken ct);

    /// <summary>The right to rebuild the campaign's state (one loader across all processes), or null if another holds it.</summary>
    ValueTask<IAsyncDisposable?> TryLockForLoadAsync(long campaignId, CancellationToken ct);

    /// <summary>The admissions of up to <paramref name="maxEntries"/> outbox entries written before <paramref name="admittedBefore"/>, oldest first.</summary>
    ValueTask<IReadOnlyList<OutboxEntry>> ReadOutboxAsync(long campaignId, DateTimeOffset admittedBefore, int maxEntries, CancellationToken ct);

    /// <summary>Deletes whole outbox entries (the reconciler, which stored every admission they hold).</summary>
    ValueTask DeleteOutboxAsync(long campaignId, IReadOnlyList<string> entryIds, CancellationToken ct);

    /// <summary>
    /// Reports admissions of this process stored, one outbox id per admission (repeats expected): an
    /// entry is deleted once all admissions it holds are reported.
    /// </summary>
    ValueTask ReleaseOutboxAsync(long campaignId, IReadOnlyList<string> outboxIds, CancellationToken ct);

    /// <summary>Campaigns whose gate state exists (and so may have an outbox).</summary>
    ValueTask<IReadOnlyList<long>> KnownCampaignsAsync(CancellationToken ct);
}
