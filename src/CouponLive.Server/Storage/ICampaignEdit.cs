namespace CouponLive.Storage;

/// <summary>
/// A campaign locked for an administrative change: until it is committed or disposed (rolled back), no
/// group commit of the campaign can move its counters, so the gate can be changed in between and the store
/// never holds a rule looser or stricter than the gate's by the time a commit checks it.
/// </summary>
public interface ICampaignEdit : IAsyncDisposable
{
    StoredCampaign Current { get; }

    /// <summary>Committed coupons, in all and per window, when the lock was taken (the gate may have admitted more).</summary>
    CampaignCounts Counts { get; }

    /// <summary>Writes the campaign's new definition, uncommitted; may be called again. False when the name is another campaign's.</summary>
    Task<bool> WriteAsync(StoredCampaign updated, CancellationToken ct);

    /// <summary>Records the change in the audit trail and commits.</summary>
    Task CommitAsync(AuditEntry audit, CancellationToken ct);
}
