using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using CouponLive.Campaigns;
using CouponLive.Events;
using CouponLive.Issuance;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>
/// The store on MySQL 8 / MariaDB 10.11 (InnoDB), with the PostgreSQL store's contract and guarantees: its
/// constraints re-check I1-I3 (see <see cref="MySqlMigrations"/>), one <see cref="MySqlDataSource"/> (one pool)
/// per process. Times are DATETIME(3) in UTC, truncated to whole milliseconds on the way in and read back with
/// offset 0.
/// </summary>
public sealed partial class MySqlCouponStore(MySqlDataSource db, TimeProvider? time = null) : ICouponStore, IEventStore, IAsyncDisposable
{
    // Server error numbers the store tells apart.
    private const int DuplicateKey = 1062;        // ER_DUP_ENTRY
    private const int CheckViolatedMariaDb = 4025; // ER_CONSTRAINT_FAILED
    private const int CheckViolatedMySql = 3819;   // ER_CHECK_CONSTRAINT_VIOLATED
    private const int DataTooLong = 1406;          // ER_DATA_TOO_LONG (strict mode)
    private const int OutOfRange = 1264;           // ER_WARN_DATA_OUT_OF_RANGE (strict mode)
    private const int Deadlock = 1213;             // ER_LOCK_DEADLOCK: InnoDB rolled the whole transaction back
    private const int DeadlockRetries = 5;

    private readonly MySqlDataSource _db = db;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private bool _ownsDataSource;

    /// <summary>A store with a data source of its own (tools and tests).</summary>
    public static MySqlCouponStore Open(string connectionString) =>
        new(new MySqlDataSource(WithPoolDefaults(connectionString))) { _ownsDataSource = true };

    /// <summary>
    /// Affected rows, not found rows: a conditional UPDATE that changes nothing reports 0, as in PostgreSQL.
    /// DATETIME values come back as UTC (they are stored as UTC).
    /// </summary>
    public static string WithPoolDefaults(string connectionString) =>
        new MySqlConnectionStringBuilder(connectionString) { UseAffectedRows = true, DateTimeKind = MySqlDateTimeKind.Utc }.ConnectionString;

    public ValueTask DisposeAsync() => _ownsDataSource ? _db.DisposeAsync() : ValueTask.CompletedTask;

    private ValueTask<MySqlConnection> OpenAsync(CancellationToken ct) => _db.OpenConnectionAsync(ct);

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await MySqlMigrations.ApplyAsync(conn, ct);
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(Cmd("SELECT value FROM meta WHERE `key` = @key", new { key }, ct));
    }

    public async Task<string> GetOrAddMetaAsync(string key, string value, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // A no-op update on a clash: the first writer's value stays and no error is raised.
        await conn.ExecuteAsync(Cmd("INSERT INTO meta(`key`, value) VALUES (@key, @value) ON DUPLICATE KEY UPDATE `key` = `key`", new { key, value }, ct));
        // A separate statement (autocommit): it sees a concurrent first writer's row.
        return await conn.ExecuteScalarAsync<string>(Cmd("SELECT value FROM meta WHERE `key` = @key", new { key }, ct)) ?? value;
    }

    public async Task<bool> TryCreateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        try
        {
            await conn.ExecuteAsync(Cmd(
                "INSERT INTO users(user_id, login_id, password_hash, role, created_at) VALUES (@UserId, @LoginId, @PasswordHash, @Role, @CreatedAt)",
                new { user.UserId, user.LoginId, user.PasswordHash, user.Role, CreatedAt = ToDb(user.CreatedAt) }, ct));
            return true;
        }
        catch (MySqlException ex) when (ex.Number == DuplicateKey)
        {
            // As ON CONFLICT (login_id) DO NOTHING: a taken login is an answer; a clash on the user id is not.
            if (await conn.ExecuteScalarAsync<long>(Cmd("SELECT COUNT(*) FROM users WHERE login_id = @LoginId", new { user.LoginId }, ct)) > 0) return false;
            throw;
        }
    }

    public async Task<UserAccount?> FindUserByLoginAsync(string loginId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = new MySqlCommand("SELECT user_id, login_id, password_hash, role, created_at FROM users WHERE login_id = @loginId", conn);
        cmd.Parameters.AddWithValue("@loginId", loginId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new UserAccount(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Time(r, 4)) : null;
    }

    public async Task UpdateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync(Cmd("UPDATE users SET password_hash = @PasswordHash, role = @Role WHERE user_id = @UserId",
            new { user.PasswordHash, user.Role, user.UserId }, ct));
    }

    public async Task<long?> TryCreateCampaignAsync(CampaignDefinition d, DateTimeOffset createdAt, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long id;
        await using (var insert = new MySqlCommand(
            """
            INSERT INTO campaigns(name, total_quantity, coupon_valid_until, benefit_type, benefit_value, created_at)
            VALUES (@name, @total, @validUntil, @benefitType, @benefitValue, @createdAt)
            """, conn, tx))
        {
            insert.Parameters.AddWithValue("@name", d.Name);
            insert.Parameters.AddWithValue("@total", d.TotalQuantity);
            insert.Parameters.AddWithValue("@validUntil", Nullable(d.CouponValidUntil));
            insert.Parameters.AddWithValue("@benefitType", (object?)d.Benefit?.Type ?? DBNull.Value);
            insert.Parameters.AddWithValue("@benefitValue", (object?)d.Benefit?.Value.ToString(CultureInfo.InvariantCulture) ?? DBNull.Value);
            insert.Parameters.AddWithValue("@createdAt", ToDb(createdAt));
            try
            {
                await insert.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException ex) when (ex.Number == DuplicateKey)
            {
                return null; // the name is the only unique column a new campaign can clash on; rolled back on dispose
            }
            id = insert.LastInsertedId;
        }

        if (d.Windows.Count > 0)
        {
            await using var windows = new MySqlCommand { Connection = conn, Transaction = tx };
            windows.CommandText = "INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota) VALUES " +
                Values(windows, Enumerable.Range(0, d.Windows.Count).ToList(),
                    _ => id, i => i, i => ToDb(d.Windows[i].StartsAt), i => ToDb(d.Windows[i].EndsAt), i => d.Windows[i].Quota);
            await windows.ExecuteNonQueryAsync(ct);
        }
        await InsertEventsAsync(conn, tx, [OutboxEvents.CampaignCreated(id, d, createdAt)], ct);
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<StoredCampaign?> GetCampaignAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await ReadCampaignAsync(conn, null, campaignId, ct))?.Campaign;
    }

    /// <summary>The campaign and its committed count; inside <paramref name="tx"/> its row stays locked until the transaction ends.</summary>
    private static Task<(StoredCampaign Campaign, CampaignCounts Counts)?> ReadCampaignAsync(MySqlConnection conn, MySqlTransaction? tx, long campaignId, CancellationToken ct) =>
        CampaignRows.ReadAsync(conn, tx, campaignId, Time, ct);

    public async Task<ICampaignEdit?> BeginCampaignEditAsync(long campaignId, CancellationToken ct)
    {
        var conn = await OpenAsync(ct);
        // The campaign row is locked FOR UPDATE from the start: group commits of it wait at their counter update.
        return await CampaignEditOpener.OpenAsync(conn,
            async () => await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct),
            tx => ReadCampaignAsync(conn, tx, campaignId, ct),
            (tx, campaign, counts) => new Edit(conn, tx, campaign, counts));
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var cmd = new MySqlCommand("SELECT at, actor, action, changes FROM campaign_audit WHERE campaign_id = @id ORDER BY audit_id DESC LIMIT @limit", conn);
        cmd.Parameters.AddWithValue("@id", campaignId);
        cmd.Parameters.AddWithValue("@limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var entries = new List<AuditEntry>();
        while (await r.ReadAsync(ct)) entries.Add(new AuditEntry(Time(r, 0), r.GetString(1), r.GetString(2), AuditJson.Read(r.GetString(3))));
        return entries;
    }

    public async Task<IReadOnlyDictionary<long, int>> GetCampaignVersionsAsync(IReadOnlyCollection<long> campaignIds, CancellationToken ct)
    {
        var versions = new Dictionary<long, int>();
        if (campaignIds.Count == 0) return versions;
        await using var conn = await OpenAsync(ct);
        await using var r = await conn.ExecuteReaderAsync(Cmd("SELECT campaign_id, version FROM campaigns WHERE campaign_id IN @ids", new { ids = campaignIds.ToArray() }, ct));
        while (await r.ReadAsync(ct)) versions[Long(r, 0)] = Int(r, 1);
        return versions;
    }

    /// <summary>The campaign's row is locked (FOR UPDATE) from the start: group commits of it wait at their counter update.</summary>
    private sealed class Edit(MySqlConnection conn, MySqlTransaction tx, StoredCampaign current, CampaignCounts counts) : ICampaignEdit
    {
        private StoredCampaign _written = current;

        public StoredCampaign Current { get; } = current;
        public CampaignCounts Counts { get; } = counts;

        public async Task<bool> WriteAsync(StoredCampaign c, CancellationToken ct)
        {
            // MySQL cannot read the updated table in the UPDATE's own subquery (error 1093): look first; a campaign
            // that takes the name meanwhile still fails the UPDATE on the UNIQUE index below.
            if (await conn.ExecuteScalarAsync<long>(Cmd("SELECT COUNT(*) FROM campaigns WHERE name = @Name AND campaign_id <> @Id", new { c.Name, c.Id }, ct, tx)) > 0)
                return false;
            await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
            var sql = new StringBuilder(
                """
                UPDATE campaigns SET sequence_reserved = sequence_reserved + GREATEST(@total - total_quantity, 0), name = @name, total_quantity = @total, coupon_valid_until = @validUntil, benefit_type = @benefitType,
                    benefit_value = @benefitValue, version = @version, paused_at = @pausedAt, cancelled_at = @cancelledAt, issued_revoked = @revoked
                WHERE campaign_id = @id;
                """);
            cmd.Parameters.AddWithValue("@name", c.Name);
            cmd.Parameters.AddWithValue("@total", c.TotalQuantity);
            cmd.Parameters.AddWithValue("@validUntil", Nullable(c.CouponValidUntil));
            cmd.Parameters.AddWithValue("@benefitType", (object?)c.Benefit?.Type ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@benefitValue", (object?)c.Benefit?.Value.ToString(CultureInfo.InvariantCulture) ?? DBNull.Value);
            cmd.Parameters.AddWithValue("@version", c.Version);
            cmd.Parameters.AddWithValue("@pausedAt", Nullable(c.PausedAt));
            cmd.Parameters.AddWithValue("@cancelledAt", Nullable(c.CancelledAt));
            cmd.Parameters.AddWithValue("@revoked", c.IssuedRevoked);
            cmd.Parameters.AddWithValue("@id", c.Id);
            cmd.Parameters.AddWithValue("@count", c.Windows.Count);
            // MySQL assigns left to right, each seeing the ones before: the high-water mark of sequence numbers rises by
            // the raise first (GateSnapshot.Reserve). Windows keep their index: started ones are unchanged, later ones are
            // rewritten, extra ones dropped (never one that holds coupons: the plan refuses it, and the statement keeps it).
            // VALUES(col) is the row that clashed (deprecated in MySQL 8.0.20 but still there; MariaDB has no alias syntax).
            if (c.Windows.Count > 0)
            {
                sql.Append("INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota) VALUES ")
                    .Append(Values(cmd, Enumerable.Range(0, c.Windows.Count).ToList(),
                        _ => c.Id, i => i, i => ToDb(c.Windows[i].StartsAt), i => ToDb(c.Windows[i].EndsAt), i => c.Windows[i].Quota))
                    .Append(" ON DUPLICATE KEY UPDATE starts_at = VALUES(starts_at), ends_at = VALUES(ends_at), quota = VALUES(quota);\n");
            }
            sql.Append("DELETE FROM campaign_windows WHERE campaign_id = @id AND window_index >= @count AND issued_count = 0;");
            cmd.CommandText = sql.ToString();
            try
            {
                await cmd.ExecuteNonQueryAsync(ct);
            }
            catch (MySqlException ex) when (ex.Number == DuplicateKey)
            {
                return false; // a campaign created with this name meanwhile; the transaction is rolled back on dispose
            }
            _written = c;
            // The row is locked since the edit began and campaigns are never deleted: it was written.
            return true;
        }

        public async Task CommitAsync(AuditEntry audit, CancellationToken ct)
        {
            // The audit row and the changed event in one round trip.
            await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
            var sql = new StringBuilder("INSERT INTO campaign_audit(campaign_id, at, actor, action, changes) VALUES (@id, @at, @actor, @action, @changes);\n");
            cmd.Parameters.AddWithValue("@id", Current.Id);
            cmd.Parameters.AddWithValue("@at", ToDb(audit.At));
            cmd.Parameters.AddWithValue("@actor", audit.Actor);
            cmd.Parameters.AddWithValue("@action", audit.Action);
            cmd.Parameters.AddWithValue("@changes", AuditJson.Write(audit.Changes));
            AppendInsertEvents(cmd, sql, [OutboxEvents.CampaignChanged(_written, audit)]);
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
        }

        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync();
            await conn.DisposeAsync();
        }
    }

    public async Task<long?> FindCampaignIdByNameAsync(string name, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteScalarAsync<long?>(Cmd("SELECT campaign_id FROM campaigns WHERE name = @name", new { name }, ct));
    }

    public async Task<CampaignCounts> GetCountsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var r = await conn.ExecuteReaderAsync(Cmd(
            """
            SELECT issued_count FROM campaigns WHERE campaign_id = @campaignId;
            SELECT issued_count FROM campaign_windows WHERE campaign_id = @campaignId ORDER BY window_index;
            SELECT COUNT(*) FROM coupons WHERE campaign_id = @campaignId AND redeemed_at IS NOT NULL;
            """, new { campaignId }, ct));
        var issued = await r.ReadAsync(ct) ? Int(r, 0) : 0;
        await r.NextResultAsync(ct);
        var perWindow = new List<int>();
        while (await r.ReadAsync(ct)) perWindow.Add(Int(r, 0));
        await r.NextResultAsync(ct);
        var redeemed = await r.ReadAsync(ct) ? Int(r, 0) : 0;
        return new CampaignCounts(issued, perWindow, redeemed);
    }

    private const string CouponColumns =
        "campaign_id, user_id, sequence, code, issued_at, window_index, grant_no, order_id, redeemed_at, redemption_cancelled_at, revoked_at";

    public async Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CouponFilter filter, CancellationToken ct) =>
        await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence > @afterSequence{CouponFilters.Sql(filter)} ORDER BY sequence LIMIT @limit",
            new { campaignId, afterSequence, limit }, ct);

    public Task<CouponChange> RedeemCouponAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedeemed, at, orderId, "order_id = @orderId, redeemed_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND redeemed_at IS NULL AND revoked_at IS NULL",
            new { campaignId, sequence, orderId, at = ToDb(at) }, ct);

    public Task<CouponChange> CancelRedemptionAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedemptionCancelled, at, orderId, "order_id = NULL, redeemed_at = NULL, redemption_cancelled_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND order_id = @orderId",
            new { campaignId, sequence, orderId, at = ToDb(at) }, ct);

    public Task<CouponChange> RevokeCouponAsync(long campaignId, long sequence, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRevoked, at, null, "revoked_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND revoked_at IS NULL",
            new { campaignId, sequence, at = ToDb(at) }, ct);

    /// <summary>
    /// One conditional UPDATE (the row lock decides between concurrent callers), then the row as it is and, if the
    /// UPDATE changed it, its event. MySQL has no RETURNING: all run in one transaction, so the row read is the one
    /// this UPDATE left (its lock is still held).
    /// </summary>
    private async Task<CouponChange> ChangeCouponAsync(
        string eventType, DateTimeOffset at, string? orderId, string setAndWhere, object parameters, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        bool changed;
        IssuedCoupon? coupon;
        await using (var r = await conn.ExecuteReaderAsync(Cmd(
            $"""
            UPDATE coupons SET {setAndWhere};
            SELECT ROW_COUNT();
            SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence = @sequence;
            """, parameters, ct, tx)))
        {
            changed = await r.ReadAsync(ct) && Long(r, 0) == 1;
            await r.NextResultAsync(ct);
            coupon = await r.ReadAsync(ct) ? ReadCoupon(r) : null;
        }
        if (changed && coupon is not null) await InsertEventsAsync(conn, tx, [OutboxEvents.Changed(eventType, coupon, Truncate(at), orderId)], ct);
        await tx.CommitAsync(ct);
        return new CouponChange(changed, coupon);
    }

    public async Task<IReadOnlyList<IssuedCoupon>> ListRecentCouponsAsync(long campaignId, int limit, CancellationToken ct) =>
        await QueryCouponsAsync($"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId ORDER BY sequence DESC LIMIT @limit", new { campaignId, limit }, ct);

    public async Task<IReadOnlyList<long>> ListCampaignIdsAsync(int limit, CancellationToken ct) =>
        await QueryIdsAsync("SELECT campaign_id FROM campaigns ORDER BY campaign_id DESC LIMIT @limit", new { limit }, ct);

    public async Task<IReadOnlyList<long>> ListActiveCampaignIdsAsync(DateTimeOffset endsAfter, CancellationToken ct) =>
        await QueryIdsAsync("SELECT DISTINCT campaign_id FROM campaign_windows WHERE ends_at > @endsAfter", new { endsAfter = ToDb(endsAfter) }, ct);

    public async Task<IReadOnlyList<IssuedCoupon>> ListUserCouponsAsync(string userId, CancellationToken ct) =>
        await QueryCouponsAsync($"SELECT {CouponColumns} FROM coupons WHERE user_id = @userId ORDER BY issued_at, campaign_id", new { userId }, ct);

    public async Task<IssuedCoupon?> FindCouponAsync(long campaignId, long sequence, CancellationToken ct) =>
        (await QueryCouponsAsync($"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence = @sequence", new { campaignId, sequence }, ct))
            .SingleOrDefault();

    public async Task<GateSnapshot> ReserveGateSnapshotAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        // The campaign's row first (FOR UPDATE): every group commit of it either lands before the snapshot is read or
        // waits for this transaction and counts as "after the rebuild".
        var row = await conn.QuerySingleOrDefaultAsync<(long Reserved, int Total)?>(Cmd(
            "SELECT sequence_reserved, total_quantity FROM campaigns WHERE campaign_id = @campaignId FOR UPDATE", new { campaignId }, ct, tx))
            ?? throw new InvalidOperationException($"Campaign {campaignId} does not exist.");
        var coupons = await QueryCouponsAsync(conn, tx, $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId", new { campaignId }, ct);
        var (snapshot, reserved) = GateSnapshot.Reserve(coupons, row.Reserved, row.Total);
        await conn.ExecuteAsync(Cmd("UPDATE campaigns SET sequence_reserved = @reserved WHERE campaign_id = @campaignId", new { reserved, campaignId }, ct, tx));
        await tx.CommitAsync(ct);
        return snapshot;
    }

    public async Task<InvariantReport> CheckInvariantsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // InnoDB's REPEATABLE READ reads every statement from the snapshot of the first one.
        return await InvariantQuery.RunAsync(conn, campaignId, IsolationLevel.RepeatableRead, ct);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteScalarAsync<long>(Cmd("SELECT 1", null, ct)) == 1;
    }

    private async Task<List<IssuedCoupon>> QueryCouponsAsync(string sql, object parameters, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await QueryCouponsAsync(conn, null, sql, parameters, ct);
    }

    private static async Task<List<IssuedCoupon>> QueryCouponsAsync(MySqlConnection conn, MySqlTransaction? tx, string sql, object parameters, CancellationToken ct)
    {
        await using var reader = await conn.ExecuteReaderAsync(Cmd(sql, parameters, ct, tx));
        var coupons = new List<IssuedCoupon>();
        while (await reader.ReadAsync(ct)) coupons.Add(ReadCoupon(reader));
        return coupons;
    }

    private async Task<List<long>> QueryIdsAsync(string sql, object parameters, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var r = await conn.ExecuteReaderAsync(Cmd(sql, parameters, ct));
        var ids = new List<long>();
        while (await r.ReadAsync(ct)) ids.Add(Long(r, 0));
        return ids;
    }

    // Column order of CouponColumns.
    private static IssuedCoupon ReadCoupon(DbDataReader r) =>
        new(Long(r, 0), r.GetString(1), Long(r, 2), r.GetString(3), Time(r, 4),
            CouponSource.Of(r.IsDBNull(5) ? null : Int(r, 5), r.IsDBNull(6) ? null : Int(r, 6)),
            r.IsDBNull(7) ? null : r.GetString(7), NullableTime(r, 8), NullableTime(r, 9), NullableTime(r, 10));

    // Integers are read by value: campaign ids are INT UNSIGNED and expressions widen to BIGINT.
    private static long Long(DbDataReader r, int column) => Convert.ToInt64(r.GetValue(column), CultureInfo.InvariantCulture);

    private static int Int(DbDataReader r, int column) => Convert.ToInt32(r.GetValue(column), CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(DbDataReader r, int column) => new(DateTime.SpecifyKind(r.GetDateTime(column), DateTimeKind.Utc));

    private static DateTimeOffset? NullableTime(DbDataReader r, int column) => r.IsDBNull(column) ? null : Time(r, column);

    /// <summary>UTC, in whole milliseconds: what a DATETIME(3) column keeps.</summary>
    private static DateTime ToDb(DateTimeOffset t) => Truncate(t).UtcDateTime;

    /// <summary>Whole milliseconds, offset 0: a time as the store gives it back.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    private static object Nullable(DateTimeOffset? t) => t is { } v ? ToDb(v) : DBNull.Value;

    /// <summary>
    /// "(@p0_0, @p0_1, ...), (@p1_0, ...)" for a multi-row VALUES list, adding the parameters to <paramref name="cmd"/>
    /// (a null value is SQL NULL).
    /// </summary>
    private static string Values<T>(MySqlCommand cmd, IReadOnlyList<T> rows, params Func<T, object?>[] columns)
    {
        var sql = new StringBuilder(rows.Count * columns.Length * 10);
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                var name = "@p" + i.ToString(CultureInfo.InvariantCulture) + "_" + c.ToString(CultureInfo.InvariantCulture);
                if (c > 0) sql.Append(", ");
                sql.Append(name);
                cmd.Parameters.AddWithValue(name, columns[c](rows[i]) ?? DBNull.Value);
            }
            sql.Append(')');
        }
        return sql.ToString();
    }

    private static CommandDefinition Cmd(string sql, object? parameters, CancellationToken ct, MySqlTransaction? tx = null) =>
        new(sql, parameters, tx, cancellationToken: ct);
}
