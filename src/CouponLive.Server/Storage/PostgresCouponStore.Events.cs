using CouponLive.Events;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>The outbox in PostgreSQL (see <see cref="IEventStore"/>; the table: <see cref="PostgresMigrations"/> v7).</summary>
public sealed partial class PostgresCouponStore
{
    private const string EventColumns = "feed_position, event_id, campaign_id, type, subject, time, data, parked_at";

    /// <summary>
    /// The statement that writes <paramref name="events"/> into the outbox, with each campaign's name as of this
    /// transaction, at the next feed positions. It locks the event_sequence row until the transaction ends: always the
    /// last statement before the commit, so that lock is held briefly and is never waited for while holding it.
    /// </summary>
    private static NpgsqlBatchCommand InsertEvents(IReadOnlyList<OutboxEvent> events)
    {
        var command = new NpgsqlBatchCommand(
            """
            WITH s AS (UPDATE event_sequence SET last_position = last_position + $8 WHERE name = 'feed' RETURNING last_position - $8 AS base)
            INSERT INTO events(feed_position, event_id, campaign_id, type, subject, time, data)
            SELECT s.base + t.i, t.id, t.c, t.type, t.subject, t.at, t.head || to_json(cm.name)::text || t.tail
            FROM s, unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])
                WITH ORDINALITY AS t(id, c, type, subject, at, head, tail, i)
            JOIN campaigns cm ON cm.campaign_id = t.c
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Id).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.CampaignId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Type).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Subject).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => ToDb(e.Time)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.DataHead).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.DataTail).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)events.Count });
        return command;
    }

    private static async Task InsertEventsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<OutboxEvent> events, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(InsertEvents(events));
        await batch.ExecuteNonQueryAsync(ct);
    }

    public async Task<bool> HoldRelayLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(
            "UPDATE event_relay SET holder = $1, expires_at = $2 WHERE name = 'relay' AND (holder = $1 OR holder IS NULL OR expires_at < $3)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = holder });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ToDb(now + ttl) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ToDb(now) });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task ReleaseRelayLeaseAsync(string holder, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("UPDATE event_relay SET holder = NULL, expires_at = NULL WHERE name = 'relay' AND holder = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = holder });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<StoredEvent>> ListUnsentEventsAsync(int limit, CancellationToken ct) =>
        await QueryEventsAsync(
            $"SELECT {EventColumns} FROM events WHERE feed_position > (SELECT sent_through FROM event_relay WHERE name = 'relay') ORDER BY feed_position LIMIT $1",
            [limit], ct);

    public async Task<bool> MarkEventsSentAsync(string holder, DateTimeOffset now, long through, IReadOnlyList<ParkedEvent> parked, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(Update(
            "UPDATE event_relay SET sent_through = GREATEST(sent_through, $1), parked = parked + $4 WHERE name = 'relay' AND holder = $2 AND expires_at > $3",
            through, holder, ToDb(now), (long)parked.Count));
        if (parked.Count > 0)
        {
            batch.BatchCommands.Add(Update(
                "UPDATE events e SET parked_at = $1, last_error = t.reason FROM unnest($2::bigint[], $3::text[]) AS t(feed, reason) WHERE e.feed_position = t.feed",
                ToDb(now), parked.Select(p => p.FeedPosition).ToArray(), parked.Select(p => p.Reason).ToArray()));
        }
        await batch.ExecuteNonQueryAsync(ct);
        if (batch.BatchCommands[0].RecordsAffected != 1) return false;
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventFeedAsync(long after, int limit, CancellationToken ct) =>
        await QueryEventsAsync($"SELECT {EventColumns} FROM events WHERE feed_position > $1 ORDER BY feed_position LIMIT $2", [after, limit], ct);

    public async Task<EventBacklog> GetEventBacklogAsync(CancellationToken ct)
    {
        // Three key lookups, however large the outbox has grown.
        await using var cmd = _db.CreateCommand(
            """
            SELECT (SELECT last_position FROM event_sequence WHERE name = 'feed') - r.sent_through,
                   (SELECT time FROM events WHERE feed_position = r.sent_through + 1),
                   r.parked
            FROM event_relay r WHERE r.name = 'relay'
            """);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new EventBacklog(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetFieldValue<DateTimeOffset>(1), r.GetInt64(2));
    }

    public async Task<int> DeleteSentEventsAsync(DateTimeOffset before, int limit, CancellationToken ct)
    {
        // The parked ones that go leave the parked count with them.
        await using var cmd = _db.CreateCommand(
            """
            WITH gone AS (
                DELETE FROM events WHERE feed_position IN (
                    SELECT feed_position FROM events
                    WHERE feed_position <= (SELECT sent_through FROM event_relay WHERE name = 'relay') AND time < $1
                    ORDER BY feed_position LIMIT $2)
                RETURNING parked_at
            ), unparked AS (
                UPDATE event_relay SET parked = parked - (SELECT COUNT(*) FROM gone WHERE parked_at IS NOT NULL)
                WHERE name = 'relay' AND EXISTS (SELECT 1 FROM gone WHERE parked_at IS NOT NULL)
            )
            SELECT COUNT(*)::int FROM gone
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = ToDb(before) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
        return (int)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private async Task<List<StoredEvent>> QueryEventsAsync(string sql, object[] values, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(sql);
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var events = new List<StoredEvent>();
        while (await r.ReadAsync(ct))
        {
            events.Add(new StoredEvent(r.GetInt64(0), r.GetGuid(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetFieldValue<DateTimeOffset>(5),
                r.GetString(6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7)));
        }
        return events;
    }
}
