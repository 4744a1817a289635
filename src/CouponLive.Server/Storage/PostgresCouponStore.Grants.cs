using CouponLive.Events;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>Bulk grants in PostgreSQL: the grant, its users in request order, their outcomes and counts.</summary>
public sealed partial class PostgresCouponStore
{
    private const string GrantColumns =
        "grant_no, campaign_id, grant_id, actor, created_at, done_at, requested, issued, already_held, sold_out, invalid, cancelled";

    public async Task<(GrantRecord Grant, bool Created)> CreateGrantAsync(
        long campaignId, string grantId, string actor, DateTimeOffset at, IReadOnlyList<GrantUser> users, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var invalid = users.Count(u => u.Outcome == GrantOutcome.Invalid);
        GrantRecord? created;
        await using (var insert = new NpgsqlCommand(
            $"""
            INSERT INTO grants(campaign_id, grant_id, actor, created_at, done_at, requested, invalid)
            VALUES (@c, @g, @actor, @at, CASE WHEN @invalid = @requested THEN @at END, @requested, @invalid)
            ON CONFLICT (campaign_id, grant_id) DO NOTHING
            RETURNING {GrantColumns}
            """, conn, tx))
        {
            insert.Parameters.AddWithValue("c", campaignId);
            insert.Parameters.AddWithValue("g", grantId);
            insert.Parameters.AddWithValue("actor", actor);
            insert.Parameters.AddWithValue("at", ToDb(at));
            insert.Parameters.AddWithValue("requested", users.Count);
            insert.Parameters.AddWithValue("invalid", invalid);
            created = (await ReadGrantsAsync(insert, ct)).SingleOrDefault();
        }
        if (created is null)
        {
            await tx.RollbackAsync(ct);
            return ((await GetGrantAsync(campaignId, grantId, ct))!, false);
        }
        await using (var rows = new NpgsqlCommand(
            """
            INSERT INTO grant_users(grant_no, position, user_id, outcome)
            SELECT @n, p, u, o FROM unnest(@p::integer[], @u::text[], @o::text[]) AS t(p, u, o)
            """, conn, tx))
        {
            rows.Parameters.AddWithValue("n", created.GrantNo);
            rows.Parameters.AddWithValue("p", users.Select(u => u.Position).ToArray());
            rows.Parameters.AddWithValue("u", users.Select(u => u.UserId).ToArray());
            rows.Parameters.AddWithValue("o", users.Select(u => u.Outcome).ToArray());
            await rows.ExecuteNonQueryAsync(ct);
        }
        // Every user invalid: done as it is created.
        if (created.DoneAt is not null) await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(created)], ct);
        await tx.CommitAsync(ct);
        return (created, true);
    }

    public async Task<GrantRecord?> GetGrantAsync(long campaignId, string grantId, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand($"SELECT {GrantColumns} FROM grants WHERE campaign_id = @c AND grant_id = @g");
        cmd.Parameters.AddWithValue("c", campaignId);
        cmd.Parameters.AddWithValue("g", grantId);
        return (await ReadGrantsAsync(cmd, ct)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand($"SELECT {GrantColumns} FROM grants WHERE campaign_id = @c ORDER BY grant_no DESC LIMIT @limit");
        cmd.Parameters.AddWithValue("c", campaignId);
        cmd.Parameters.AddWithValue("limit", limit);
        return await ReadGrantsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<GrantRecord>> ListUnfinishedGrantsAsync(CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand($"SELECT {GrantColumns} FROM grants WHERE done_at IS NULL ORDER BY grant_no");
        return await ReadGrantsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<GrantUser>> ListGrantUsersAsync(int grantNo, int afterPosition, int limit, bool pendingOnly, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(
            $"SELECT position, user_id, outcome, code FROM grant_users WHERE grant_no = @n AND position > @after{(pendingOnly ? " AND outcome IS NULL" : "")} ORDER BY position LIMIT @limit");
        cmd.Parameters.AddWithValue("n", grantNo);
        cmd.Parameters.AddWithValue("after", afterPosition);
        cmd.Parameters.AddWithValue("limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var users = new List<GrantUser>();
        while (await r.ReadAsync(ct)) users.Add(new GrantUser(r.GetInt32(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3)));
        return users;
    }

    public async Task<GrantRecord> RecordGrantOutcomesAsync(int grantNo, IReadOnlyList<GrantUser> decided, DateTimeOffset at, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Only users still without an outcome change; the counts grow by exactly those (a replay adds nothing).
        await using var cmd = new NpgsqlCommand(
            $"""
            WITH recorded AS (
                UPDATE grant_users g SET outcome = t.o, code = t.code
                FROM unnest(@p::integer[], @o::text[], @code::text[]) AS t(p, o, code)
                WHERE g.grant_no = @n AND g.position = t.p AND g.outcome IS NULL
                RETURNING g.outcome
            )
            UPDATE grants SET
                issued = issued + (SELECT COUNT(*) FROM recorded WHERE outcome = 'issued'),
                already_held = already_held + (SELECT COUNT(*) FROM recorded WHERE outcome = 'already_held'),
                sold_out = sold_out + (SELECT COUNT(*) FROM recorded WHERE outcome = 'sold_out'),
                invalid = invalid + (SELECT COUNT(*) FROM recorded WHERE outcome = 'invalid'),
                cancelled = cancelled + (SELECT COUNT(*) FROM recorded WHERE outcome = 'cancelled')
            WHERE grant_no = @n
            RETURNING {GrantColumns}
            """, conn, tx);
        cmd.Parameters.AddWithValue("n", grantNo);
        cmd.Parameters.AddWithValue("p", decided.Select(u => u.Position).ToArray());
        cmd.Parameters.AddWithValue("o", decided.Select(u => u.Outcome).ToArray());
        cmd.Parameters.AddWithValue("code", decided.Select(u => u.Code).ToArray());
        var grant = (await ReadGrantsAsync(cmd, ct)).Single();
        if (grant.DoneAt is null && grant.Issued + grant.AlreadyHeld + grant.SoldOut + grant.Invalid + grant.Cancelled >= grant.Requested)
        {
            await using var done = new NpgsqlCommand($"UPDATE grants SET done_at = @at WHERE grant_no = @n RETURNING {GrantColumns}", conn, tx);
            done.Parameters.AddWithValue("at", ToDb(at));
            done.Parameters.AddWithValue("n", grantNo);
            grant = (await ReadGrantsAsync(done, ct)).Single();
            await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(grant)], ct);
        }
        await tx.CommitAsync(ct);
        return grant;
    }

    private static async Task<List<GrantRecord>> ReadGrantsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var grants = new List<GrantRecord>();
        while (await r.ReadAsync(ct))
        {
            grants.Add(new GrantRecord(r.GetInt32(0), r.GetInt64(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4),
                r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5), r.GetInt32(6), r.GetInt32(7), r.GetInt32(8), r.GetInt32(9), r.GetInt32(10), r.GetInt32(11)));
        }
        return grants;
    }
}
