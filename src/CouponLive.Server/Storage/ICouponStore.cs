using CouponLive.Campaigns;

namespace CouponLive.Storage;

/// <summary>The durable store: SQLite in embedded mode, PostgreSQL in production mode. It re-checks I1-I3 with its own constraints.</summary>
public interface ICouponStore
{
    Task InitializeAsync(CancellationToken ct);

    Task<string?> GetMetaAsync(string key, CancellationToken ct);
    /// <summary>Sets the value if the key is absent; returns the value stored afterwards.</summary>
    Task<string> GetOrAddMetaAsync(string key, string value, CancellationToken ct);

    /// <summary>False when the login id is taken.</summary>
    Task<bool> TryCreateUserAsync(UserAccount user, CancellationToken ct);
    Task<UserAccount?> FindUserByLoginAsync(string loginId, CancellationToken ct);
    Task UpdateUserAsync(UserAccount user, CancellationToken ct);

    /// <summary>The new campaign's id, or null when the name is taken.</summary>
    Task<long?> TryCreateCampaignAsync(CampaignDefinition definition, DateTimeOffset createdAt, CancellationToken ct);
    Task<StoredCampaign?> GetCampaignAsync(long campaignId, CancellationToken ct);
    /// <summary>Locks the campaign for a change (see <see cref="ICampaignEdit"/>); null when there is no such campaign.</summary>
    Task<ICampaignEdit?> BeginCampaignEditAsync(long campaignId, CancellationToken ct);
    /// <summary>The campaign's administrative changes, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long campaignId, int limit, CancellationToken ct);
    /// <summary>The current version of each of these campaigns (those that exist).</summary>
    Task<IReadOnlyDictionary<long, int>> GetCampaignVersionsAsync(IReadOnlyCollection<long> campaignIds, CancellationToken ct);
    /// <summary>The id of the campaign with exactly this (already normalized) name, or null.</summary>
    Task<long?> FindCampaignIdByNameAsync(string name, CancellationToken ct);
    Task<CampaignCounts> GetCountsAsync(long campaignId, CancellationToken ct);
    Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CancellationToken ct) =>
        ListCouponsAsync(campaignId, afterSequence, limit, CouponFilter.All, ct);
    Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CouponFilter filter, CancellationToken ct);
    /// <summary>The newest coupons of a campaign, highest sequence first (the live view's ticker).</summary>
    Task<IReadOnlyList<IssuedCoupon>> ListRecentCouponsAsync(long campaignId, int limit, CancellationToken ct);

    /// <summary>Campaign ids, newest first.</summary>
    Task<IReadOnlyList<long>> ListCampaignIdsAsync(int limit, CancellationToken ct);

    /// <summary>Ids of the campaigns with a window ending after <paramref name="endsAfter"/>.</summary>
    Task<IReadOnlyList<long>> ListActiveCampaignIdsAsync(DateTimeOffset endsAfter, CancellationToken ct);

    Task<IReadOnlyList<IssuedCoupon>> ListUserCouponsAsync(string userId, CancellationToken ct);
    Task<IssuedCoupon?> FindCouponAsync(long campaignId, long sequence, CancellationToken ct);

    /// <summary>
    /// Redeems the coupon for <paramref name="orderId"/> in one conditional statement (the database decides between
    /// concurrent redemptions): changed only if it was neither redeemed nor revoked.
    /// </summary>
    Task<CouponChange> RedeemCouponAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct);

    /// <summary>Takes back the redemption made for <paramref name="orderId"/>: changed only if the coupon is redeemed for that order.</summary>
    Task<CouponChange> CancelRedemptionAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct);

    /// <summary>Revokes the coupon for good: changed only if it was not revoked yet.</summary>
    Task<CouponChange> RevokeCouponAsync(long campaignId, long sequence, DateTimeOffset at, CancellationToken ct);

    /// <summary>
    /// Commits a group of admitted issues in one transaction, advancing the campaign and window
    /// counters with them (<see cref="CommitPlan"/>, the same in every store). Idempotent per (campaign, user).
    /// Outcomes come back in input order; Rejected covers a code or sequence clash with another user, over-issue,
    /// a value the store cannot hold, and unknown campaigns or windows. Throws when nothing was committed: a
    /// transient failure, or an error the rows did not cause.
    /// </summary>
    Task<IReadOnlyList<CommitOutcome>> CommitAsync(IReadOnlyList<IssuedCoupon> batch, CancellationToken ct);

    /// <summary>
    /// What a rebuilt gate starts from: the committed coupons, read after the campaign's row is locked, and the
    /// sequence numbers it may hand out, reserved above the campaign's high-water mark in the same transaction.
    /// </summary>
    Task<GateSnapshot> ReserveGateSnapshotAsync(long campaignId, CancellationToken ct);

    /// <summary>
    /// Creates a grant with its users in request order (an outcome given for a user, e.g. invalid, is final and
    /// counted at once), or, when the campaign has a grant of this id, returns that one unchanged (Created false).
    /// </summary>
    Task<(GrantRecord Grant, bool Created)> CreateGrantAsync(
        long campaignId, string grantId, string actor, DateTimeOffset at, IReadOnlyList<GrantUser> users, CancellationToken ct);
    Task<GrantRecord?> GetGrantAsync(long campaignId, string grantId, CancellationToken ct);
    /// <summary>The campaign's grants, newest first.</summary>
    Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(long campaignId, int limit, CancellationToken ct);
    /// <summary>Grants not done yet, oldest first (what the grant runner resumes).</summary>
    Task<IReadOnlyList<GrantRecord>> ListUnfinishedGrantsAsync(CancellationToken ct);
    /// <summary>A page of a grant's users after <paramref name="afterPosition"/>; only those without an outcome with <paramref name="pendingOnly"/>.</summary>
    Task<IReadOnlyList<GrantUser>> ListGrantUsersAsync(int grantNo, int afterPosition, int limit, bool pendingOnly, CancellationToken ct);
    /// <summary>
    /// Records outcomes in one transaction: a user's first outcome stands (a repeated record changes nothing), the
    /// counts grow by what was recorded, and the grant is done at <paramref name="at"/> once no user is left.
    /// </summary>
    Task<GrantRecord> RecordGrantOutcomesAsync(int grantNo, IReadOnlyList<GrantUser> decided, DateTimeOffset at, CancellationToken ct);

    /// <summary>Reads the campaign's rows and counters and reports I1-I4 (see <see cref="InvariantReport"/>).</summary>
    Task<InvariantReport> CheckInvariantsAsync(long campaignId, CancellationToken ct);

    /// <summary>True when the store answers; throws when it cannot be reached.</summary>
    Task<bool> IsHealthyAsync(CancellationToken ct);
}
