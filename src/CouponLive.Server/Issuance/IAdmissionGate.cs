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
}

/// <summary>A gate decision. <see cref="At"/> is the gate's clock at admission (I4 is judged by it).</summary>
public readonly record struct Admission(
    AdmissionOutcome Outcome,
    long Sequence = 0,
    DateTimeOffset At = default,
    int WindowIndex = -1,
    DateTimeOffset? OpensAt = null);

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
}
