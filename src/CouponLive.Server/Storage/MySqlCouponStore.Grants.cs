using System.Data;
using System.Data.Common;
using System.Text;
using CouponLive.Events;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>Bulk grants in MySQL: the grant, its users in request order, their outcomes and counts.</summary>
public sealed partial class MySqlCouponStore
{
    private const string GrantColumns =
        "grant_no, campaign_id, grant_id, actor, created_at, done_at, requested, issued, already_held, sold_out, invalid, cancelled";

    // Rows per multi-row INSERT of a grant's users: well under the 65,535 placeholders of one statement and the
    // server's max_allowed_packet, for grants of up to 100,000 users.
    private const int GrantUsersPerInsert = 2_000;

    public async Task<(GrantRecord Grant, bool Created)> CreateGrantAsync(
        long campaignId, string grantId, string actor, DateTimeOffset at, IReadOnlyList<GrantUser> users, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var invalid = users.Count(u => u.Outcome == GrantOutcome.Invalid);
        int grantNo;
        await using (var insert = new MySqlCommand(
            """
            INSERT INTO grants(campaign_id, grant_id, actor, created_at, done_at, requested, invalid)
            VALUES (@c, @g, @actor, @at, CASE WHEN @invalid = @requested THEN @at END, @requested, @invalid)
            """, conn, tx))
        {
            insert.Parameters.AddWithValue("@c", campaignId);
            insert.Parameters.AddWithValue("@g", grantId);
            insert.Parameters.AddWithValue("@actor", actor);
            insert.Parameters.AddWithValue("@at", ToDb(at));
            insert.Parameters.AddWithValue("@requested", users.Count);
            insert.Parameters.AddWithValue("@invalid", invalid);
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException ex) when (ex.Number == DuplicateKey)
            {
                // The campaign has a grant of this id (its creator waited on our insert or committed before): that one.
                await tx.RollbackAsync(ct);
                return ((await GetGrantAsync(campaignId, grantId, ct))!, false);
            }
            grantNo = checked((int)insert.LastInsertedId);
        }
        foreach (var chunk in users.Chunk(GrantUsersPerInsert))
        {
            await using var rows = new MySqlCommand { Connection = conn, Transaction = tx };
            rows.CommandText = "INSERT INTO grant_users(grant_no, position, user_id, outcome) VALUES " +
                Values(rows, chunk, _ => grantNo, u => u.Position, u => u.UserId, u => u.Outcome);
            await rows.ExecuteNonQueryAsync(ct);
        }
        var created = (await ReadGrantsAsync(conn, tx, $"SELECT {GrantColumns} FROM grants WHERE grant_no = @n", new { n = grantNo }, ct)).Single();
        // Every user invalid: done as it is created.
        if (created.DoneAt is not null) await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(created)], ct);
        await tx.CommitAsync(ct);
        return (created, true);
    }

    public async Task<GrantRecord?> GetGrantAsync(long campaignId, string grantId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await ReadGrantsAsync(conn, null, $"SELECT {GrantColumns} FROM grants WHERE campaign_id = @c AND grant_id = @g", new { c = campaignId, g = grantId }, ct))
            .SingleOrDefault();
    }

    public async Task<IReadOnlyList<GrantRecord>> ListGrantsAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await ReadGrantsAsync(conn, null, $"SELECT {GrantColumns} FROM grants WHERE campaign_id = @c ORDER BY grant_no DESC LIMIT @limit", new { c = campaignId, limit }, ct);
    }

    public async Task<IReadOnlyList<GrantRecord>> ListUnfinishedGrantsAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await ReadGrantsAsync(conn, null, $"SELECT {GrantColumns} FROM grants WHERE done_at IS NULL ORDER BY grant_no", null, ct);
    }

    public async Task<IReadOnlyList<GrantUser>> ListGrantUsersAsync(int grantNo, int afterPosition, int limit, bool pendingOnly, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var r = await conn.ExecuteReaderAsync(Cmd(
            $"SELECT position, user_id, outcome, code FROM grant_users WHERE grant_no = @n AND position > @after{(pendingOnly ? " AND outcome IS NULL" : "")} ORDER BY position LIMIT @limit",
            new { n = grantNo, after = afterPosition, limit }, ct));
        var users = new List<GrantUser>();
        while (await r.ReadAsync(ct)) users.Add(new GrantUser(Int(r, 0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3)));
        return users;
    }

    public async Task<GrantRecord> RecordGrantOutcomesAsync(int grantNo, IReadOnlyList<GrantUser> decided, DateTimeOffset at, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        // The grant row first: concurrent recorders of one grant queue here, so each sees the other's outcomes; whether
        // it was done already tells whether this call finishes it (and writes the finished event).
        var wasDone = await conn.ExecuteScalarAsync<long?>(Cmd("SELECT done_at IS NOT NULL FROM grants WHERE grant_no = @n FOR UPDATE", new { n = grantNo }, ct, tx)) == 1;

        // Only users still without an outcome change; the counts grow by exactly those (a replay adds nothing).
        // MySQL has no UPDATE ... RETURNING: the pending ones are read (locked) first, then written.
        var byPosition = new Dictionary<int, GrantUser>();
        foreach (var u in decided) byPosition.TryAdd(u.Position, u);
        var pending = new List<int>();
        if (byPosition.Count > 0)
        {
            await using var r = await conn.ExecuteReaderAsync(Cmd(
                "SELECT position FROM grant_users WHERE grant_no = @n AND position IN @positions AND outcome IS NULL FOR UPDATE",
                new { n = grantNo, positions = byPosition.Keys.ToArray() }, ct, tx));
            while (await r.ReadAsync(ct)) pending.Add(Int(r, 0));
        }

        var recorded = pending.Select(p => byPosition[p]).ToList();
        await using (var cmd = new MySqlCommand { Connection = conn, Transaction = tx })
        {
            // One UPDATE per recorded user, all sent in one round trip.
            var sql = new StringBuilder();
            for (var i = 0; i < recorded.Count; i++)
            {
                var p = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sql.Append("UPDATE grant_users SET outcome = @o").Append(p).Append(", code = @c").Append(p)
                    .Append(" WHERE grant_no = @n AND position = @p").Append(p).Append(";\n");
                cmd.Parameters.AddWithValue("@o" + p, recorded[i].Outcome);
                cmd.Parameters.AddWithValue("@c" + p, (object?)recorded[i].Code ?? DBNull.Value);
                cmd.Parameters.AddWithValue("@p" + p, recorded[i].Position);
            }
            sql.Append(
                """
                UPDATE grants SET issued = issued + @issued, already_held = already_held + @held, sold_out = sold_out + @soldOut,
                    invalid = invalid + @invalid, cancelled = cancelled + @cancelled
                WHERE grant_no = @n;
                UPDATE grants SET done_at = @at
                WHERE grant_no = @n AND done_at IS NULL AND issued + already_held + sold_out + invalid + cancelled >= requested;
                """);
            cmd.Parameters.AddWithValue("@n", grantNo);
            cmd.Parameters.AddWithValue("@at", ToDb(at));
            cmd.Parameters.AddWithValue("@issued", recorded.Count(u => u.Outcome == GrantOutcome.Issued));
            cmd.Parameters.AddWithValue("@held", recorded.Count(u => u.Outcome == GrantOutcome.AlreadyHeld));
            cmd.Parameters.AddWithValue("@soldOut", recorded.Count(u => u.Outcome == GrantOutcome.SoldOut));
            cmd.Parameters.AddWithValue("@invalid", recorded.Count(u => u.Outcome == GrantOutcome.Invalid));
            cmd.Parameters.AddWithValue("@cancelled", recorded.Count(u => u.Outcome == GrantOutcome.Cancelled));
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var grant = (await ReadGrantsAsync(conn, tx, $"SELECT {GrantColumns} FROM grants WHERE grant_no = @n", new { n = grantNo }, ct)).Single();
        if (!wasDone && grant.DoneAt is not null) await InsertEventsAsync(conn, tx, [OutboxEvents.GrantFinished(grant)], ct);
        await tx.CommitAsync(ct);
        return grant;
    }

    private static async Task<List<GrantRecord>> ReadGrantsAsync(MySqlConnection conn, MySqlTransaction? tx, string sql, object? parameters, CancellationToken ct)
    {
        await using var r = await conn.ExecuteReaderAsync(Cmd(sql, parameters, ct, tx));
        var grants = new List<GrantRecord>();
        while (await r.ReadAsync(ct)) grants.Add(ReadGrant(r));
        return grants;
    }

    private static GrantRecord ReadGrant(DbDataReader r) =>
        new(Int(r, 0), Long(r, 1), r.GetString(2), r.GetString(3), Time(r, 4), NullableTime(r, 5),
            Int(r, 6), Int(r, 7), Int(r, 8), Int(r, 9), Int(r, 10), Int(r, 11));
}
