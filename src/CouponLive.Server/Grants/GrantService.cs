using System.Globalization;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Storage;

namespace CouponLive.Grants;

/// <summary>
/// Bulk grants behind every transport: validated and stored with their users in one step (idempotent per grant id),
/// then carried out by <see cref="GrantRunner"/> in the background; read back with progress and per-user outcomes.
/// </summary>
public sealed class GrantService(ICouponStore store, CampaignCatalog catalog, GrantRunner runner, TimeProvider time)
{
    public const int MaxUsers = 100_000;
    public const int MaxGrantIdLength = 100;
    public const int DefaultPageSize = 1_000;
    public const int MaxPageSize = 10_000;
    public const int MaxListed = 100;

    /// <summary>The grant (Created false: it existed, and nothing changed).</summary>
    public async Task<ServiceResult<GrantCreated>> CreateAsync(string? campaignId, string actor, GrantRequest? request, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(campaignId, out var id) ? await catalog.GetAsync(id, ct) : null;
        if (campaign is null) return CampaignService.NotFound;
        if (request?.GrantId is not { Length: >= 1 and <= MaxGrantIdLength } grantId || grantId.Any(char.IsControl) || string.IsNullOrWhiteSpace(grantId))
            return new ServiceFailure(ErrorCodes.InvalidGrantId, "grantId", $"grantId is required: 1..{MaxGrantIdLength} printable characters.");
        if (request.UserIds is not { Count: >= 1 and <= MaxUsers } userIds)
            return new ServiceFailure(ErrorCodes.InvalidGrantUsers, "userIds", $"userIds is required: 1..{MaxUsers} user ids.");

        var existing = await store.GetGrantAsync(id, grantId, ct);
        if (existing is not null) return new GrantCreated(ToResponse(existing), false);
        if (campaign.CancelledAt is not null) return CampaignChanges.Cancelled;

        // An unusable id, or one listed before, is decided now: invalid.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var users = new List<GrantUser>(userIds.Count);
        for (var i = 0; i < userIds.Count; i++)
        {
            var user = userIds[i];
            var valid = Principals.IsAcceptableUserId(user) && seen.Add(user!);
            users.Add(new GrantUser(i, user ?? "", valid ? null : GrantOutcome.Invalid, null));
        }
        var (grant, created) = await store.CreateGrantAsync(id, grantId, actor, time.GetUtcNow(), users, ct);
        if (created) runner.Wake();
        return new GrantCreated(ToResponse(grant), created);
    }

    public async Task<ServiceResult<GrantResponse>> GetAsync(string? campaignId, string? grantId, int afterPosition, int limit, CancellationToken ct)
    {
        if (!CampaignCatalog.TryParseId(campaignId, out var id) || grantId is null || await store.GetGrantAsync(id, grantId, ct) is not { } grant)
            return NotFound;
        if (limit is < 1 or > MaxPageSize)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "limit", string.Create(CultureInfo.InvariantCulture, $"limit must be 1 to {MaxPageSize}."));
        if (afterPosition < -1)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "after", "after must be a position from a previous page's next.");
        var users = await store.ListGrantUsersAsync(grant.GrantNo, afterPosition, limit + 1, pendingOnly: false, ct);
        var page = users.Take(limit).ToList();
        return ToResponse(grant) with { Results = page, Next = users.Count > limit ? page[^1].Position : null };
    }

    public async Task<ServiceResult<GrantList>> ListAsync(string? campaignId, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(campaignId, out var id) ? await catalog.GetAsync(id, ct) : null;
        if (campaign is null) return CampaignService.NotFound;
        return new GrantList([.. (await store.ListGrantsAsync(id, MaxListed, ct)).Select(ToResponse)]);
    }

    public static GrantResponse ToResponse(GrantRecord g) => new(
        g.GrantId, g.CampaignId, g.DoneAt is null ? "running" : "done", g.Requested, g.Issued, g.AlreadyHeld, g.SoldOut, g.Invalid, g.Cancelled,
        g.Actor, g.CreatedAt, g.DoneAt);

    private static readonly ServiceFailure NotFound = new(ErrorCodes.GrantNotFound, "grantId", "No grant with this id for this campaign.");
}
