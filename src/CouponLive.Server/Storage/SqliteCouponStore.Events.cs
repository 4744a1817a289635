using CouponLive.Events;
using Dapper;
using Microsoft.Data.Sqlite;

namespace CouponLive.Storage;

/// <summary>The outbox in SQLite (see <see cref="IEventStore"/>; the table: <see cref="SqliteMigrations"/> v7).</summary>
public sealed partial class SqliteCouponStore
{
    private const string EventColumns =
        "feed_position AS FeedPosition, event_id AS EventId, campaign_id AS CampaignId, type AS Type, subject AS Subject, time AS Time, data AS Data, parked_at AS ParkedAt";

    // One row per event, with the campaign's name as of this transaction (json_quote: the name as a JSON string).
    private const string InsertEventSql =
        """
        INSERT INTO events(event_id, campaign_id, type, subject, time, data)
        SELECT $id, $c, $type, $subject, $at, $head || json_quote(name) || $tail FROM campaigns WHERE campaign_id = $c
        """;

    /// <summary>Writes <paramref name="events"/> into the outbox in the order given (one prepared statement, run per event).</summary>
    private static void InsertEvents(SqliteConnection conn, SqliteTransaction tx, IReadOnlyList<OutboxEvent> events)
    {
        using var insert = EventInsert(conn, tx, out var bind);
        foreach (var e in events)
        {
            bind(e);
            insert.ExecuteNonQuery();
        }
    }

    private static async Task InsertEventsAsync(SqliteConnection conn, SqliteTransaction tx, IReadOnlyList<OutboxEvent> events, CancellationToken ct)
    {
        await using var insert = EventInsert(conn, tx, out var bind);
        foreach (var e in events)
        {
            bind(e);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    private static SqliteCommand EventInsert(SqliteConnection conn, SqliteTransaction tx, out Action<OutboxEvent> bind)
    {
        var insert = conn.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = InsertEventSql;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var campaign = insert.Parameters.Add("$c", SqliteType.Integer);
        var type = insert.Parameters.Add("$type", SqliteType.Text);
        var subject = insert.Parameters.Add("$subject", SqliteType.Text);
        var at = insert.Parameters.Add("$at", SqliteType.Integer);
        var head = insert.Parameters.Add("$head", SqliteType.Text);
        var tail = insert.Parameters.Add("$tail", SqliteType.Text);
        bind = e =>
        {
            id.Value = e.Id.ToString("D");
            campaign.Value = e.CampaignId;
            type.Value = e.Type;
            subject.Value = e.Subject;
            at.Value = e.Time.ToUnixTimeMilliseconds();
            head.Value = e.DataHead;
            tail.Value = e.DataTail;
        };
        return insert;
    }

    public async Task<bool> HoldRelayLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteAsync(
            "UPDATE event_relay SET holder = @holder, expires_at = @expires WHERE name = 'relay' AND (holder = @holder OR holder IS NULL OR expires_at < @now)",
            new { holder, expires = (now + ttl).ToUnixTimeMilliseconds(), now = now.ToUnixTimeMilliseconds() }) == 1;
    }

    public async Task<int?> SequenceEventsAsync(string holder, DateTimeOffset now, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // BEGIN IMMEDIATE: the write lock from the start, so sequencing runs one at a time and feed positions have no gaps.
        await using var tx = conn.BeginTransaction(deferred: false);
        var next = await conn.ExecuteScalarAsync<long?>(
            "SELECT next_feed FROM event_relay WHERE name = 'relay' AND holder = @holder AND expires_at > @now",
            new { holder, now = now.ToUnixTimeMilliseconds() }, tx);
        if (next is null) return null;
        var sequenced = await conn.ExecuteAsync(
            """
            UPDATE events SET feed_position = p.feed
            FROM (SELECT position, @next + row_number() OVER (ORDER BY position) - 1 AS feed
                  FROM (SELECT position FROM events WHERE feed_position IS NULL ORDER BY position LIMIT @limit)) AS p
            WHERE events.position = p.position
            """, new { next, limit }, tx);
        await conn.ExecuteAsync("UPDATE event_relay SET next_feed = next_feed + @sequenced WHERE name = 'relay'", new { sequenced }, tx);
        await tx.CommitAsync(ct);
        return sequenced;
    }

    public async Task<IReadOnlyList<StoredEvent>> ListUnsentEventsAsync(int limit, CancellationToken ct) =>
        await QueryEventsAsync(
            $"SELECT {EventColumns} FROM events WHERE feed_position > (SELECT sent_through FROM event_relay WHERE name = 'relay') ORDER BY feed_position LIMIT @limit",
            new { limit }, ct);

    public async Task<bool> MarkEventsSentAsync(string holder, DateTimeOffset now, long through, IReadOnlyList<ParkedEvent> parked, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        var at = now.ToUnixTimeMilliseconds();
        // The fence first: without the lease nothing is parked either (the transaction is rolled back on dispose).
        if (await conn.ExecuteAsync(
                "UPDATE event_relay SET sent_through = MAX(sent_through, @through) WHERE name = 'relay' AND holder = @holder AND expires_at > @now",
                new { through, holder, now = at }, tx) != 1)
            return false;
        if (parked.Count > 0)
        {
            await conn.ExecuteAsync("UPDATE events SET parked_at = @at, last_error = @Reason WHERE feed_position = @FeedPosition",
                parked.Select(p => new { at, p.Reason, p.FeedPosition }), tx);
        }
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadEventFeedAsync(long after, int limit, CancellationToken ct) =>
        await QueryEventsAsync($"SELECT {EventColumns} FROM events WHERE feed_position > @after ORDER BY feed_position LIMIT @limit", new { after, limit }, ct);

    public async Task<EventBacklog> GetEventBacklogAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // The aggregate MIN over both candidates: unlike PostgreSQL's LEAST, SQLite's two-argument MIN gives NULL if either is NULL.
        var (pending, oldest, parked) = await conn.QuerySingleAsync<(long, long?, long)>(
            """
            SELECT
                (SELECT COUNT(*) FROM events WHERE feed_position IS NULL)
                    + (SELECT next_feed - 1 - sent_through FROM event_relay WHERE name = 'relay'),
                (SELECT MIN(t) FROM (
                    SELECT MIN(time) AS t FROM events WHERE feed_position IS NULL
                    UNION ALL
                    SELECT time FROM events WHERE feed_position = (SELECT sent_through + 1 FROM event_relay WHERE name = 'relay'))),
                (SELECT COUNT(*) FROM events WHERE parked_at IS NOT NULL)
            """);
        return new EventBacklog(pending, FromMs(oldest), parked);
    }

    public async Task<int> DeleteSentEventsAsync(DateTimeOffset before, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteAsync(
            """
            DELETE FROM events WHERE position IN (
                SELECT position FROM events
                WHERE feed_position <= (SELECT sent_through FROM event_relay WHERE name = 'relay') AND time < @before
                ORDER BY feed_position LIMIT @limit)
            """, new { before = before.ToUnixTimeMilliseconds(), limit });
    }

    private async Task<List<StoredEvent>> QueryEventsAsync(string sql, object parameters, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<EventRow>(sql, parameters);
        return rows.Select(r => new StoredEvent(r.FeedPosition, Guid.ParseExact(r.EventId, "D"), r.CampaignId, r.Type, r.Subject, FromMs(r.Time), r.Data,
            FromMs(r.ParkedAt))).ToList();
    }

    private sealed record EventRow(long FeedPosition, string EventId, long CampaignId, string Type, string Subject, long Time, string Data, long? ParkedAt);
}
