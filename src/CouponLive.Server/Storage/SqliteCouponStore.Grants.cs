using CouponLive.Events;
using Dapper;

namespace CouponLive.Storage;

/// <summary>Bulk grants in SQLite: the grant, its users in request order, their outcomes and counts.</summary>
public sealed partial class SqliteCouponStore
{
    private const string GrantColumns =
        "grant_no AS GrantNo, campaign_id AS CampaignId, grant_id AS GrantId, actor AS Actor, created_at AS CreatedAt, done_at AS DoneAt, " +
        "requested AS Requested, issued AS Issued, already_held AS AlreadyHeld, sold_out AS SoldOut, invalid AS Invalid, cancelled AS Cancelled";

    public async Task<(GrantRecord Grant, bool Created)> CreateGrantAsync(
        long campaignId, string grantId, string actor, DateTimeOffset at, IReadOnlyList<GrantUser> users, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        var invalid = users.Count(u => u.Outcome == GrantOutcome.Invalid);
        var created = await conn.QuerySingleOrDefaultAsync<GrantRow>(
            $"""
            INSERT INTO grants(campaign_id, grant_id, actor, created_at, done_at, requested, invalid)
            VALUES (@campaignId, @grantId, @actor, @at, CASE WHEN @invalid = @requested THEN @at END, @requested, @invalid)
            ON CONFLICT(campaign_id, grant_id) DO NOTHING
            RETURNING {GrantColumns}
            """,
            new { campaignId, grantId, actor, at = at.ToUnixTimeMilliseconds(), requested = users.Count, invalid }, tx);
        if (created is null)
        {
            await tx.RollbackAsync(ct);
            return ((await GetGrantAsync(campaignId, grantId, ct))!, false);
        }
        await conn.ExecuteAsync("INSERT INTO grant_users(grant_no, position, user_id, outcome) VALUES (@GrantNo, @Position, @UserId, @Outcome)",
            users.Select(u => new { created.GrantNo, u.Position, u.UserId, u.Outcome }), tx);
        var grant = ToGrant(created);
        // Every user invalid: done as it is created.
        if (grant.DoneAt is not null) await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(grant)], ct);
        await tx.CommitAsync(ct);
        return (grant, true);
    }

    public async Task<GrantRecord?> GetGrantAsync(long campaignId, string grantId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<GrantRow>($"SELECT {GrantColumns} FROM grants WHERE campaign_id = @campaignId AND grant_id = @grantId",
            new { campaignId, grantId });
        return row is null ? null : ToGrant(row);
    }

    public async Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await conn.QueryAsync<GrantRow>($"SELECT {GrantColumns} FROM grants WHERE campaign_id = @campaignId ORDER BY grant_no DESC LIMIT @limit",
            new { campaignId, limit })).Select(ToGrant).ToList();
    }

    public async Task<IReadOnlyList<GrantRecord>> ListUnfinishedGrantsAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await conn.QueryAsync<GrantRow>($"SELECT {GrantColumns} FROM grants WHERE done_at IS NULL ORDER BY grant_no")).Select(ToGrant).ToList();
    }

    public async Task<IReadOnlyList<GrantUser>> ListGrantUsersAsync(int grantNo, int afterPosition, int limit, bool pendingOnly, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<GrantUserRow>(
            $"""
            SELECT position AS Position, user_id AS UserId, outcome AS Outcome, code AS Code FROM grant_users
            WHERE grant_no = @grantNo AND position > @afterPosition{(pendingOnly ? " AND outcome IS NULL" : "")} ORDER BY position LIMIT @limit
            """, new { grantNo, afterPosition, limit });
        return rows.Select(r => new GrantUser((int)r.Position, r.UserId, r.Outcome, r.Code)).ToList();
    }

    public async Task<GrantRecord> RecordGrantOutcomesAsync(int grantNo, IReadOnlyList<GrantUser> decided, DateTimeOffset at, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        // Only users still without an outcome change; the counts grow by exactly those (a replay adds nothing).
        var recorded = new Dictionary<string, int>();
        foreach (var u in decided)
        {
            var n = await conn.ExecuteAsync("UPDATE grant_users SET outcome = @Outcome, code = @Code WHERE grant_no = @grantNo AND position = @Position AND outcome IS NULL",
                new { u.Outcome, u.Code, grantNo, u.Position }, tx);
            if (n == 1) recorded[u.Outcome!] = recorded.GetValueOrDefault(u.Outcome!) + 1;
        }
        await conn.ExecuteAsync(
            """
            UPDATE grants SET issued = issued + @issued, already_held = already_held + @held, sold_out = sold_out + @soldOut,
                invalid = invalid + @invalid, cancelled = cancelled + @cancelled
            WHERE grant_no = @grantNo
            """,
            new
            {
                grantNo,
                issued = recorded.GetValueOrDefault(GrantOutcome.Issued),
                held = recorded.GetValueOrDefault(GrantOutcome.AlreadyHeld),
                soldOut = recorded.GetValueOrDefault(GrantOutcome.SoldOut),
                invalid = recorded.GetValueOrDefault(GrantOutcome.Invalid),
                cancelled = recorded.GetValueOrDefault(GrantOutcome.Cancelled),
            }, tx);
        var finished = await conn.ExecuteAsync(
            "UPDATE grants SET done_at = @at WHERE grant_no = @grantNo AND done_at IS NULL AND issued + already_held + sold_out + invalid + cancelled >= requested",
            new { grantNo, at = at.ToUnixTimeMilliseconds() }, tx);
        var grant = ToGrant(await conn.QuerySingleAsync<GrantRow>($"SELECT {GrantColumns} FROM grants WHERE grant_no = @grantNo", new { grantNo }, tx));
        // Only the call that finished the grant reports it: a replay finds done_at set.
        if (finished == 1) await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(grant)], ct);
        await tx.CommitAsync(ct);
        return grant;
    }

    private static GrantRecord ToGrant(GrantRow r) => new((int)r.GrantNo, r.CampaignId, r.GrantId, r.Actor, FromMs(r.CreatedAt), FromMs(r.DoneAt),
        (int)r.Requested, (int)r.Issued, (int)r.AlreadyHeld, (int)r.SoldOut, (int)r.Invalid, (int)r.Cancelled);

    private sealed record GrantRow(long GrantNo, long CampaignId, string GrantId, string Actor, long CreatedAt, long? DoneAt,
        long Requested, long Issued, long AlreadyHeld, long SoldOut, long Invalid, long Cancelled);

    private sealed record GrantUserRow(long Position, string UserId, string? Outcome, string? Code);
}
