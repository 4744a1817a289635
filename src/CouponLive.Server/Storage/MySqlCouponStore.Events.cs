using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using CouponLive.Events;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>
/// The outbox in MySQL (see <see cref="IEventStore"/>; the tables: <see cref="MySqlMigrations"/> step 3). The
/// connections report affected rows, not found rows (<see cref="WithPoolDefaults"/>): an UPDATE that writes the values
/// a row already has reports 0, so the lease fences are read (locked) rather than taken from an UPDATE's count.
/// The relay's transactions are READ COMMITTED: no gap locks on the events' key to hold up the writers' inserts.
/// </summary>
public sealed partial class MySqlCouponStore
{
    private const string EventColumns = "feed_position, event_id, campaign_id, type, subject, `time`, data, parked_at";

    // Rows per multi-row INSERT of events: a group commit of several thousand coupons is several statements, each
    // well under the 65,535 placeholders of a statement.
    private const int EventsPerInsert = 1_000;

    /// <summary>
    /// Appends to <paramref name="sql"/> the statements that write <paramref name="events"/> into the outbox at the next
    /// feed positions, with each campaign's name as of this transaction; the parameters (prefix @e) go to
    /// <paramref name="cmd"/>. The UPDATE locks the event_sequence row until the transaction ends (always the last
    /// statements before the commit, after the campaigns' rows) and leaves the new last position in LAST_INSERT_ID(), which the session's next
    /// statements read (events has no AUTO_INCREMENT to overwrite it).
    /// </summary>
    private static void AppendInsertEvents(MySqlCommand cmd, StringBuilder sql, IReadOnlyList<OutboxEvent> events)
    {
        // The campaigns' rows first, shared: the inserts' name lookups lock them, and a writer that took them after
        // event_sequence could deadlock with one that holds them and waits for event_sequence.
        var campaigns = events.Select(e => e.CampaignId).Distinct().ToList();
        sql.Append("SELECT COUNT(*) FROM campaigns WHERE campaign_id IN (");
        for (var i = 0; i < campaigns.Count; i++)
        {
            var p = "@ecampaign" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ").Append(p);
            cmd.Parameters.AddWithValue(p, campaigns[i]);
        }
        sql.Append(") LOCK IN SHARE MODE;\n");
        sql.Append("UPDATE event_sequence SET last_position = LAST_INSERT_ID(last_position + @ecount) WHERE name = 'feed';\n");
        cmd.Parameters.AddWithValue("@ecount", events.Count);
        var n = 0;
        foreach (var chunk in events.Chunk(EventsPerInsert))
        {
            sql.Append("INSERT INTO events(feed_position, event_id, campaign_id, type, subject, `time`, data) VALUES ");
            for (var i = 0; i < chunk.Length; i++, n++)
            {
                var e = chunk[i];
                var p = "@e" + n.ToString(CultureInfo.InvariantCulture) + "_";
                // The name from the campaign's row (the same transaction's view of it): JSON_QUOTE makes it a JSON string.
                sql.Append(i == 0 ? "(" : ", (")
                    .Append("LAST_INSERT_ID() - @ecount + ").Append((n + 1).ToString(CultureInfo.InvariantCulture)).Append(", ")
                    .Append(p).Append("id, ").Append(p).Append("c, ").Append(p).Append("type, ").Append(p).Append("subject, ").Append(p).Append("at, CONCAT(")
                    .Append(p).Append("head, (SELECT JSON_QUOTE(cm.name) FROM campaigns cm WHERE cm.campaign_id = ").Append(p).Append("c), ")
                    .Append(p).Append("tail))");
                cmd.Parameters.AddWithValue(p + "id", e.Id.ToString());
                cmd.Parameters.AddWithValue(p + "c", e.CampaignId);
                cmd.Parameters.AddWithValue(p + "type", e.Type);
                cmd.Parameters.AddWithValue(p + "subject", e.Subject);
                cmd.Parameters.AddWithValue(p + "at", ToDb(e.Time));
                cmd.Parameters.AddWithValue(p + "head", e.DataHead);
                cmd.Parameters.AddWithValue(p + "tail", e.DataTail);
            }
            sql.Append(";\n");
        }
    }

    private static async Task InsertEventsAsync(MySqlConnection conn, MySqlTransaction tx, IReadOnlyList<OutboxEvent> events, CancellationToken ct)
    {
        await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
        var sql = new StringBuilder();
        AppendInsertEvents(cmd, sql, events);
        cmd.CommandText = sql.ToString();
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<bool> HoldRelayLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        // A renewal to the same expiry changes nothing and reports 0 rows: the row is read back instead. The holder is
        // this one exactly when the UPDATE matched (it matches this holder's own row), and the lock keeps it so.
        long held;
        await using (var r = await conn.ExecuteReaderAsync(Cmd(
            """
            UPDATE event_relay SET holder = @holder, expires_at = @expires
            WHERE name = 'relay' AND (holder = @holder OR holder IS NULL OR expires_at < @now);
            SELECT COUNT(*) FROM event_relay WHERE name = 'relay' AND holder = @holder FOR UPDATE;
            """, new { holder, expires = ToDb(now + ttl), now = ToDb(now) }, ct, tx)))
        {
            held = await r.ReadAsync(ct) ? Long(r, 0) : 0;
        }
        await tx.CommitAsync(ct);
        return held == 1;
    }

    public async Task ReleaseRelayLeaseAsync(string holder, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync(Cmd("UPDATE event_relay SET holder = NULL, expires_at = NULL WHERE name = 'relay' AND holder = @holder", new { holder }, ct));
    }

    public async Task<IReadOnlyList<StoredEvent>> ListUnsentEventsAsync(int limit, CancellationToken ct) =>
        await QueryEventsAsync(
            $"SELECT {EventColumns} FROM events WHERE feed_position > (SELECT sent_through FROM event_relay WHERE name = 'relay') ORDER BY feed_position LIMIT @limit",
            new { limit }, ct);

    public async Task<bool> MarkEventsSentAsync(string holder, DateTimeOffset now, long through, IReadOnlyList<ParkedEvent> parked, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        // The fence first, locked: an UPDATE that leaves sent_through as it is reports 0 rows whether or not it matched.
        if (await conn.ExecuteScalarAsync<long?>(Cmd(
                "SELECT 1 FROM event_relay WHERE name = 'relay' AND holder = @holder AND expires_at > @now FOR UPDATE",
                new { holder, now = ToDb(now) }, ct, tx)) is null)
            return false; // rolled back on dispose (nothing was written)

        await using (var cmd = new MySqlCommand { Connection = conn, Transaction = tx })
        {
            var sql = new StringBuilder("UPDATE event_relay SET sent_through = GREATEST(sent_through, @through), parked = parked + @count WHERE name = 'relay';\n");
            cmd.Parameters.AddWithValue("@through", through);
            cmd.Parameters.AddWithValue("@count", parked.Count);
            cmd.Parameters.AddWithValue("@now", ToDb(now));
            for (var i = 0; i < parked.Count; i++)
            {
                var p = i.ToString(CultureInfo.InvariantCulture);
                sql.Append("UPDATE events SET parked_at = @now, last_error = @r").Append(p).Append(" WHERE feed_position = @f").Append(p).Append(";\n");
                cmd.Parameters.AddWithValue("@r" + p, parked[i].Reason);
                cmd.Parameters.AddWithValue("@f" + p, parked[i].FeedPosition);
            }
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventFeedAsync(long after, int limit, CancellationToken ct) =>
        await QueryEventsAsync($"SELECT {EventColumns} FROM events WHERE feed_position > @after ORDER BY feed_position LIMIT @limit", new { after, limit }, ct);

    public async Task<EventBacklog> GetEventBacklogAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // Key lookups only, however large the outbox has grown.
        await using var r = await conn.ExecuteReaderAsync(Cmd(
            """
            SELECT (SELECT last_position FROM event_sequence WHERE name = 'feed') - r.sent_through,
                   (SELECT `time` FROM events WHERE feed_position = r.sent_through + 1),
                   r.parked
            FROM event_relay r WHERE r.name = 'relay'
            """, null, ct));
        await r.ReadAsync(ct);
        return new EventBacklog(Long(r, 0), NullableTime(r, 1), Long(r, 2));
    }

    public async Task<int> DeleteSentEventsAsync(DateTimeOffset before, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // READ COMMITTED: no gap locks past the sent range, where the writers' new events go.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        // The oldest sent ones, locked; MySQL has no IN (subquery with LIMIT), so the range up to the last of them goes.
        var oldest = (await conn.QueryAsync<(long Position, long Parked)>(Cmd(
            """
            SELECT feed_position, parked_at IS NOT NULL FROM events
            WHERE feed_position <= (SELECT sent_through FROM event_relay WHERE name = 'relay') AND `time` < @before
            ORDER BY feed_position LIMIT @limit FOR UPDATE
            """, new { before = ToDb(before), limit }, ct, tx))).AsList();
        if (oldest.Count == 0) return 0;
        var deleted = await conn.ExecuteAsync(Cmd(
            "DELETE FROM events WHERE feed_position <= @through AND `time` < @before",
            new { through = oldest[^1].Position, before = ToDb(before) }, ct, tx));
        // The parked ones that go leave the parked count with them.
        var unparked = oldest.Sum(o => o.Parked);
        if (unparked > 0) await conn.ExecuteAsync(Cmd("UPDATE event_relay SET parked = parked - @unparked WHERE name = 'relay'", new { unparked }, ct, tx));
        await tx.CommitAsync(ct);
        return deleted;
    }

    private async Task<List<StoredEvent>> QueryEventsAsync(string sql, object parameters, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var r = await conn.ExecuteReaderAsync(Cmd(sql, parameters, ct));
        var events = new List<StoredEvent>();
        while (await r.ReadAsync(ct))
            events.Add(new StoredEvent(Long(r, 0), EventId(r, 1), Long(r, 2), r.GetString(3), r.GetString(4), Time(r, 5), r.GetString(6), NullableTime(r, 7)));
        return events;
    }

    // CHAR(36) comes back as a Guid under MySqlConnector's default GuidFormat, as text under another.
    private static Guid EventId(DbDataReader r, int column) => r.GetValue(column) is Guid g ? g : Guid.Parse(r.GetString(column));
}
