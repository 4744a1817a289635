using CouponLive.Events;
using Dapper;
using Microsoft.Data.Sqlite;

namespace CouponLive.Storage;

/// <summary>The outbox in SQLite (see <see cref="IEventStore"/>; the tables: <see cref="SqliteMigrations"/> v7).</summary>
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

    public async Task ReleaseRelayLeaseAsync(string holder, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("UPDATE event_relay SET holder = NULL, expires_at = NULL WHERE name = 'relay' AND holder = @holder", new { holder });
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
                "UPDATE event_relay SET sent_through = MAX(sent_through, @through), parked = parked + @count WHERE name = 'relay' AND holder = @holder AND expires_at > @now",
                new { through, count = parked.Count, holder, now = at }, tx) != 1)
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
        // Key lookups only: the newest position is AUTOINCREMENT's (absent until the first event).
        var (pending, oldest, parked) = await conn.QuerySingleAsync<(long, long?, long)>(
            """
            SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) - r.sent_through,
                   (SELECT time FROM events WHERE feed_position = r.sent_through + 1),
                   r.parked
            FROM event_relay r WHERE r.name = 'relay'
            """);
        return new EventBacklog(pending, FromMs(oldest), parked);
    }

    public async Task<int> DeleteSentEventsAsync(DateTimeOffset before, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        var selected = new { before = before.ToUnixTimeMilliseconds(), limit };
        const string Oldest =
            """
            SELECT feed_position FROM events
            WHERE feed_position <= (SELECT sent_through FROM event_relay WHERE name = 'relay') AND time < @before
            ORDER BY feed_position LIMIT @limit
            """;
        // The parked ones that go leave the parked count with them.
        await conn.ExecuteAsync(
            $"UPDATE event_relay SET parked = parked - (SELECT COUNT(*) FROM events WHERE parked_at IS NOT NULL AND feed_position IN ({Oldest})) WHERE name = 'relay'",
            selected, tx);
        var deleted = await conn.ExecuteAsync($"DELETE FROM events WHERE feed_position IN ({Oldest})", selected, tx);
        await tx.CommitAsync(ct);
        return deleted;
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
