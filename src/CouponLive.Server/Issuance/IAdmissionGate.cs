using CouponLive.Storage;

namespace CouponLive.Issuance;

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

    /// <summary>
    /// Applies the campaign's new rules (total quantity, windows, <see cref="GateState"/>) to its state in one atomic
    /// step, keeping its holders and counts: the next admission decides by them. With <paramref name="endCurrentWindow"/>
    /// the window open at the gate's clock ends now. Refused without change when the new total is below what the gate
    /// has admitted.
    /// </summary>
    ValueTask<GateChange> ChangeAsync(StoredCampaign campaign, bool endCurrentWindow, CancellationToken ct);

    /// <summary>
    /// Admits users for bulk grant <paramref name="grantNo"/> in one atomic step, in order: the same rules as
    /// <see cref="AdmitAsync"/> (one per user, the stock, pause and cancel) but no window; an admission's window is
    /// -<paramref name="grantNo"/>, so a holder's answer tells which grant admitted it. All NotLoaded when not loaded.
    /// </summary>
    ValueTask<IReadOnlyList<Admission>> AdmitGrantAsync(StoredCampaign campaign, int grantNo, IReadOnlyList<string> userIds, CancellationToken ct);

    /// <summary>A named lease on the campaign held by one process at a time, released on dispose or after <paramref name="ttl"/>; null when taken.</summary>
    ValueTask<IAsyncDisposable?> TryLeaseAsync(long campaignId, string name, TimeSpan ttl, CancellationToken ct);

    /// <summary>Drops the campaign's state so the next request rebuilds it from the store.</summary>
    ValueTask EvictAsync(long campaignId, CancellationToken ct);

    /// <summary>The right to rebuild the campaign's state (one loader across all processes), or null if another holds it.</summary>
    ValueTask<IAsyncDisposable?> TryLockForLoadAsync(long campaignId, CancellationToken ct);
}
