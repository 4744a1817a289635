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

    /// <summary>
    /// Replaces the campaign's gate state with what the store has committed (<paramref name="snapshot"/>), handing out
    /// sequence numbers from <see cref="GateSnapshot.NextSequence"/> on. Never throws on stored data: a coupon of a
    /// window the campaign no longer has counts for the campaign only.
    /// </summary>
    ValueTask LoadAsync(StoredCampaign campaign, GateSnapshot snapshot, CancellationToken ct);

    /// <summary>
    /// The gate's step of a campaign change (docs/architecture.md, "Live changes"), one atomic step on the gate's clock:
    /// judges the windows of <paramref name="before"/> against <paramref name="after"/> (<see cref="Campaigns.WindowChangeRule"/>),
    /// with <paramref name="endCurrentWindow"/> ends the window open now, refuses a total below what the gate has admitted,
    /// and applies the new rules (total, windows, <see cref="GateState"/>, version), keeping holders and counts: the next
    /// admission decides by them. Judged also when the gate holds no state (NotLoaded).
    /// </summary>
    ValueTask<GateChange> ChangeAsync(StoredCampaign before, StoredCampaign after, bool endCurrentWindow, CancellationToken ct);

    /// <summary>
    /// Admits users for bulk grant <paramref name="grantNo"/> in one atomic step, in order: the same rules as
    /// <see cref="AdmitAsync"/> (one per user, the stock, pause and cancel) but no window; an admission's source is the
    /// grant, so a holder's answer tells which grant admitted it. All NotLoaded when not loaded.
    /// </summary>
    ValueTask<IReadOnlyList<Admission>> AdmitGrantAsync(StoredCampaign campaign, int grantNo, IReadOnlyList<string> userIds, CancellationToken ct);

    /// <summary>
    /// The store holds <paramref name="stored"/> for a user the gate has just admitted (<paramref name="admitted"/>): the
    /// stored coupon is theirs. The gate takes it as the holder's, moving the window count to its window; its total
    /// stays (it counted one coupon for the user, as the store does). Nothing changes if the holder is no longer that admission.
    /// </summary>
    ValueTask SettleHolderAsync(long campaignId, string userId, Admission admitted, IssuedCoupon stored, CancellationToken ct);

    /// <summary>A named lease on the campaign held by one process at a time, released on dispose or after <paramref name="ttl"/>; null when taken.</summary>
    ValueTask<IAsyncDisposable?> TryLeaseAsync(long campaignId, string name, TimeSpan ttl, CancellationToken ct);

    /// <summary>Drops the campaign's state so the next request rebuilds it from the store.</summary>
    ValueTask EvictAsync(long campaignId, CancellationToken ct);

    /// <summary>
    /// The campaign lock, across all processes: held by whoever rebuilds the campaign's gate or changes the campaign,
    /// so a rebuild never reads a store about to change; null when another holds it (it expires if its holder dies).
    /// </summary>
    ValueTask<IAsyncDisposable?> TryLockCampaignAsync(long campaignId, CancellationToken ct);

    /// <summary>Drops what this process keeps in memory for an ended campaign; shared state (Redis) expires by itself.</summary>
    void Forget(long campaignId);

    /// <summary>Campaigns this process keeps gate state for in memory (the in-process gate's state; Redis's admission queues).</summary>
    int HeldCampaigns { get; }
}
