using CouponLive.Campaigns;
using CouponLive.Events;
using CouponLive.Issuance;
using Dapper;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>
/// Production-mode store: one PostgreSQL database shared by every server process, reached through
/// one <see cref="NpgsqlDataSource"/> (one connection pool). Its constraints re-check I1-I3 (see
/// <see cref="PostgresMigrations"/>). Times are timestamptz, truncated to whole milliseconds on the
/// way in, so both stores give back the same values.
/// </summary>
public sealed partial class PostgresCouponStore(NpgsqlDataSource db, TimeProvider? time = null) : ICouponStore, IEventStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = db;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private bool _ownsDataSource;

    /// <summary>A store with a data source of its own (tools and tests; the service gets its data source from DI).</summary>
    public static PostgresCouponStore Open(string connectionString) =>
        new(NpgsqlDataSource.Create(WithPoolDefaults(connectionString))) { _ownsDataSource = true };

    /// <summary>
    /// The group commit runs the same few statements thousands of times a sale: prepare them once per
    /// connection (auto-prepare) and keep them across pool returns (no DISCARD ALL; the store sets no
    /// session state). A connection string that sets auto-prepare keeps its own value.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 32;
        return builder.ConnectionString;
    }

    public ValueTask DisposeAsync() => _ownsDataSource ? _db.DisposeAsync() : ValueTask.CompletedTask;

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await PostgresMigrations.ApplyAsync(conn, ct);
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<string?>(Cmd("SELECT value FROM meta WHERE key = @key", new { key }, ct));
    }

    public async Task<string> GetOrAddMetaAsync(string key, string value, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(Cmd("INSERT INTO meta(key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING", new { key, value }, ct));
        // A separate statement: under READ COMMITTED it sees a concurrent first writer's row.
        return await conn.ExecuteScalarAsync<string>(Cmd("SELECT value FROM meta WHERE key = @key", new { key }, ct)) ?? value;
    }

    public async Task<bool> TryCreateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        var n = await conn.ExecuteAsync(Cmd(
            """
            INSERT INTO users(user_id, login_id, password_hash, role, created_at)
            VALUES (@UserId, @LoginId, @PasswordHash, @Role, @CreatedAt)
            ON CONFLICT (login_id) DO NOTHING
            """,
            new { user.UserId, user.LoginId, user.PasswordHash, user.Role, CreatedAt = ToDb(user.CreatedAt) }, ct));
        return n == 1;
    }

    public async Task<UserAccount?> FindUserByLoginAsync(string loginId, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT user_id, login_id, password_hash, role, created_at FROM users WHERE login_id = @loginId");
        cmd.Parameters.AddWithValue("loginId", loginId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct)
            ? new UserAccount(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    public async Task UpdateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(Cmd("UPDATE users SET password_hash = @PasswordHash, role = @Role WHERE user_id = @UserId",
            new { user.PasswordHash, user.Role, user.UserId }, ct));
    }

    public async Task<long?> TryCreateCampaignAsync(CampaignDefinition d, DateTimeOffset createdAt, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long?>(Cmd(
            """
            INSERT INTO campaigns(name, total_quantity, coupon_valid_until, benefit_type, benefit_value, created_at)
            VALUES (@Name, @TotalQuantity, @ValidUntil, @BenefitType, @BenefitValue, @CreatedAt)
            ON CONFLICT (name) DO NOTHING
            RETURNING campaign_id
            """,
            new
            {
                d.Name,
                d.TotalQuantity,
                ValidUntil = d.CouponValidUntil is { } v ? ToDb(v) : (DateTimeOffset?)null,
                BenefitType = d.Benefit?.Type,
                BenefitValue = d.Benefit?.Value,
                CreatedAt = ToDb(createdAt),
            },
            ct, tx));
        if (id is null) return null;

        await using (var windows = new NpgsqlCommand(
            """
            INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota)
            SELECT @id, i - 1, s, e, q FROM unnest(@s::timestamptz[], @e::timestamptz[], @q::integer[]) WITH ORDINALITY AS t(s, e, q, i)
            """, conn, tx))
        {
            windows.Parameters.AddWithValue("id", id.Value);
            windows.Parameters.AddWithValue("s", d.Windows.Select(w => ToDb(w.StartsAt)).ToArray());
            windows.Parameters.AddWithValue("e", d.Windows.Select(w => ToDb(w.EndsAt)).ToArray());
            windows.Parameters.AddWithValue("q", d.Windows.Select(w => w.Quota).ToArray());
            await windows.ExecuteNonQueryAsync(ct);
        }
        await InsertEventsAsync(conn, tx, [OutboxEvents.CampaignCreated(id.Value, d, createdAt)], ct);
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<StoredCampaign?> GetCampaignAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return (await ReadCampaignAsync(conn, null, campaignId, ct))?.Campaign;
    }

    /// <summary>The campaign and its committed count; inside <paramref name="tx"/> its row stays locked until the transaction ends.</summary>
    private static Task<(StoredCampaign Campaign, CampaignCounts Counts)?> ReadCampaignAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long campaignId, CancellationToken ct) =>
        CampaignRows.ReadAsync(conn, tx, campaignId, static (r, c) => r.GetFieldValue<DateTimeOffset>(c), ct);

    public async Task<ICampaignEdit?> BeginCampaignEditAsync(long campaignId, CancellationToken ct)
    {
        var conn = await _db.OpenConnectionAsync(ct);
        return await CampaignEditOpener.OpenAsync(conn,
            async () => await conn.BeginTransactionAsync(ct),
            tx => ReadCampaignAsync(conn, tx, campaignId, ct),
            (tx, campaign, counts) => new Edit(conn, tx, campaign, counts));
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT at, actor, action, changes FROM campaign_audit WHERE campaign_id = @id ORDER BY audit_id DESC LIMIT @limit");
        cmd.Parameters.AddWithValue("id", campaignId);
        cmd.Parameters.AddWithValue("limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var entries = new List<AuditEntry>();
        while (await r.ReadAsync(ct))
            entries.Add(new AuditEntry(r.GetFieldValue<DateTimeOffset>(0), r.GetString(1), r.GetString(2), AuditJson.Read(r.GetString(3))));
        return entries;
    }

    public async Task<IReadOnlyDictionary<long, int>> GetCampaignVersionsAsync(IReadOnlyCollection<long> campaignIds, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT campaign_id, version FROM campaigns WHERE campaign_id = ANY(@ids)");
        cmd.Parameters.AddWithValue("ids", campaignIds.ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var versions = new Dictionary<long, int>();
        while (await r.ReadAsync(ct)) versions[r.GetInt64(0)] = r.GetInt32(1);
        return versions;
    }

    /// <summary>The campaign's row is locked (FOR UPDATE) from the start: group commits of it wait at their counter update.</summary>
    private sealed class Edit(NpgsqlConnection conn, NpgsqlTransaction tx, StoredCampaign current, CampaignCounts counts) : ICampaignEdit
    {
        private StoredCampaign _written = current;

        public StoredCampaign Current { get; } = current;
        public CampaignCounts Counts { get; } = counts;

        public async Task<bool> WriteAsync(StoredCampaign c, CancellationToken ct)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            batch.BatchCommands.Add(Update(
                """
                UPDATE campaigns SET sequence_reserved = sequence_reserved + GREATEST($2 - total_quantity, 0),
                    name = $1, total_quantity = $2, coupon_valid_until = $3, benefit_type = $4, benefit_value = $5,
                    version = $6, paused_at = $7, cancelled_at = $8, issued_revoked = $9
                WHERE campaign_id = $10 AND NOT EXISTS (SELECT 1 FROM campaigns WHERE name = $1 AND campaign_id <> $10)
                """,
                c.Name, c.TotalQuantity, Nullable(c.CouponValidUntil), (object?)c.Benefit?.Type ?? DBNull.Value, (object?)c.Benefit?.Value ?? DBNull.Value,
                c.Version, Nullable(c.PausedAt), Nullable(c.CancelledAt), c.IssuedRevoked, c.Id));
            // Windows keep their index: started ones are unchanged, later ones are rewritten, extra ones dropped (a window
            // that holds coupons never is: the plan refuses it, and the statement keeps it anyway). A higher quantity
            // raises the high-water mark of sequence numbers by as much (see GateSnapshot.Reserve).
            var windows = new NpgsqlBatchCommand(
                """
                INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota)
                SELECT $1, i - 1, s, e, q FROM unnest($2::timestamptz[], $3::timestamptz[], $4::integer[]) WITH ORDINALITY AS t(s, e, q, i)
                ON CONFLICT (campaign_id, window_index) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, quota = excluded.quota
                """);
            windows.Parameters.Add(new NpgsqlParameter { Value = c.Id });
            windows.Parameters.Add(new NpgsqlParameter { Value = c.Windows.Select(w => ToDb(w.StartsAt)).ToArray() });
            windows.Parameters.Add(new NpgsqlParameter { Value = c.Windows.Select(w => ToDb(w.EndsAt)).ToArray() });
            windows.Parameters.Add(new NpgsqlParameter { Value = c.Windows.Select(w => w.Quota).ToArray() });
            batch.BatchCommands.Add(windows);
            batch.BatchCommands.Add(Update("DELETE FROM campaign_windows WHERE campaign_id = $1 AND window_index >= $2 AND issued_count = 0", c.Id, c.Windows.Count));
            try
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return false; // a campaign created with this name meanwhile; the transaction is rolled back on dispose
            }
            _written = c;
            return batch.BatchCommands[0].RecordsAffected == 1;
        }

        public async Task CommitAsync(AuditEntry audit, CancellationToken ct)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            batch.BatchCommands.Add(Update("INSERT INTO campaign_audit(campaign_id, at, actor, action, changes) VALUES ($1, $2, $3, $4, $5)",
                Current.Id, ToDb(audit.At), audit.Actor, audit.Action, AuditJson.Write(audit.Changes)));
            batch.BatchCommands.Add(InsertEvents([OutboxEvents.CampaignChanged(_written, audit)]));
            await batch.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
        }

        public async ValueTask DisposeAsync()
        {
            await tx.DisposeAsync();
            await conn.DisposeAsync();
        }

        private static object Nullable(DateTimeOffset? t) => t is { } v ? ToDb(v) : DBNull.Value;
    }

    public async Task<long?> FindCampaignIdByNameAsync(string name, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long?>(Cmd("SELECT campaign_id FROM campaigns WHERE name = @name", new { name }, ct));
    }

    public async Task<CampaignCounts> GetCountsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        var issued = await conn.ExecuteScalarAsync<int?>(Cmd("SELECT issued_count FROM campaigns WHERE campaign_id = @campaignId", new { campaignId }, ct)) ?? 0;
        var perWindow = (await conn.QueryAsync<int>(Cmd(
            "SELECT issued_count FROM campaign_windows WHERE campaign_id = @campaignId ORDER BY window_index", new { campaignId }, ct))).ToList();
        // Counted from the partial index of redeemed coupons: no counter row shared with the group commit.
        var redeemed = await conn.ExecuteScalarAsync<int>(Cmd(
            "SELECT CAST(COUNT(*) AS integer) FROM coupons WHERE campaign_id = @campaignId AND redeemed_at IS NOT NULL", new { campaignId }, ct));
        return new CampaignCounts(issued, perWindow, redeemed);
    }

    private const string CouponColumns =
        "campaign_id, user_id, sequence, code, issued_at, window_index, grant_no, order_id, redeemed_at, redemption_cancelled_at, revoked_at";

    public async Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CouponFilter filter, CancellationToken ct) =>
        await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence > @afterSequence{CouponFilters.Sql(filter)} ORDER BY sequence LIMIT @limit",
            [new("campaignId", campaignId), new("afterSequence", afterSequence), new("limit", limit)], ct);

    public Task<CouponChange> RedeemCouponAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedeemed, at, orderId, campaignId, sequence,
            "order_id = @orderId, redeemed_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND redeemed_at IS NULL AND revoked_at IS NULL",
            [new("orderId", orderId), new("at", ToDb(at))], ct);

    public Task<CouponChange> CancelRedemptionAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedemptionCancelled, at, orderId, campaignId, sequence,
            "order_id = NULL, redeemed_at = NULL, redemption_cancelled_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND order_id = @orderId",
            [new("orderId", orderId), new("at", ToDb(at))], ct);

    public Task<CouponChange> RevokeCouponAsync(long campaignId, long sequence, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRevoked, at, null, campaignId, sequence,
            "revoked_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND revoked_at IS NULL",
            [new("at", ToDb(at))], ct);

    /// <summary>
    /// One conditional UPDATE (the row lock decides between concurrent callers) and, if it changed the row, its event,
    /// in one transaction; if it changed nothing, the row as it is.
    /// </summary>
    private async Task<CouponChange> ChangeCouponAsync(
        string eventType, DateTimeOffset at, string? orderId, long campaignId, long sequence, string setAndWhere, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        NpgsqlParameter[] key = [new("campaignId", campaignId), new("sequence", sequence)];
        await using (var conn = await _db.OpenConnectionAsync(ct))
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using var update = new NpgsqlCommand($"UPDATE coupons SET {setAndWhere} RETURNING {CouponColumns}", conn, tx);
            update.Parameters.AddRange(parameters);
            update.Parameters.AddRange(key);
            IssuedCoupon? changed = null;
            await using (var reader = await update.ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct)) changed = ReadCoupon(reader);
            }
            if (changed is not null)
            {
                // The order id given, not the row's: a cancelled redemption's row no longer holds it.
                await InsertEventsAsync(conn, tx, [OutboxEvents.Changed(eventType, changed, ToDb(at), orderId)], ct);
                await tx.CommitAsync(ct);
                return new CouponChange(true, changed);
            }
        }
        return new CouponChange(false, await FindCouponAsync(campaignId, sequence, ct));
    }

    public async Task<IReadOnlyList<IssuedCoupon>> ListRecentCouponsAsync(long campaignId, int limit, CancellationToken ct) =>
        await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId ORDER BY sequence DESC LIMIT @limit",
            [new("campaignId", campaignId), new("limit", limit)], ct);

    public async Task<IReadOnlyList<long>> ListCampaignIdsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(Cmd("SELECT campaign_id FROM campaigns ORDER BY campaign_id DESC LIMIT @limit", new { limit }, ct))).ToList();
    }

    public async Task<IReadOnlyList<long>> ListActiveCampaignIdsAsync(DateTimeOffset endsAfter, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<long>(Cmd("SELECT DISTINCT campaign_id FROM campaign_windows WHERE ends_at > @endsAfter", new { endsAfter = ToDb(endsAfter) }, ct))).ToList();
    }

    public async Task<IReadOnlyList<IssuedCoupon>> ListUserCouponsAsync(string userId, CancellationToken ct) =>
        await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE user_id = @userId ORDER BY issued_at, campaign_id",
            [new("userId", userId)], ct);

    public async Task<IssuedCoupon?> FindCouponAsync(long campaignId, long sequence, CancellationToken ct) =>
        (await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence = @sequence",
            [new("campaignId", campaignId), new("sequence", sequence)], ct)).SingleOrDefault();

    public async Task<IReadOnlyList<CommitOutcome>> CommitAsync(IReadOnlyList<IssuedCoupon> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        await using var conn = await _db.OpenConnectionAsync(ct);
        return await CommitPlan.RunAsync(batch, (plan, skipConflicts) => CommitGroupAsync(conn, plan, skipConflicts, _time, ct), IsRefusal);
    }

    // The data refused a row: class 23 (integrity constraint: a clash, a CHECK) or 22 (data exception: a value the
    // column cannot hold). Anything else (connection lost, shutdown, deadlock, serialization, an error the rows did
    // not cause) propagates: nothing was committed and the writer decides.
    private static bool IsRefusal(Exception ex) =>
        ex is PostgresException pg && (pg.SqlState.StartsWith("23", StringComparison.Ordinal) || pg.SqlState.StartsWith("22", StringComparison.Ordinal));

    // Without ON CONFLICT the insert skips the pre-check of every unique index, which cost PostgreSQL twice the insert
    // itself; a row whose window does not exist is kept out (a negative window is a grant: stored as grant_no).
    private const string InsertCoupons =
        """
        INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, grant_no, issued_at, committed_at)
        SELECT c, s, u, code, w, g, at, now()
        FROM unnest(@c::bigint[], @s::bigint[], @u::text[], @code::text[], @w::integer[], @g::integer[], @at::timestamptz[]) AS t(c, s, u, code, w, g, at)
        WHERE t.w IS NULL OR EXISTS (SELECT 1 FROM campaign_windows cw WHERE cw.campaign_id = t.c AND cw.window_index = t.w)
        ORDER BY t.c, t.s
        """;

    private const string Returning = " RETURNING campaign_id, sequence, user_id";

    /// <summary>One transaction of the plan (see <see cref="CommitPlan"/>); with <paramref name="skipConflicts"/> a clash skips its row.</summary>
    private static async Task<CommitOutcome[]> CommitGroupAsync(NpgsqlConnection conn, CommitPlan plan, bool skipConflicts, TimeProvider time, CancellationToken ct)
    {
        var rows = plan.Rows;
        await using var tx = await conn.BeginTransactionAsync(ct);

        // ON CONFLICT without a target: a clash on (campaign, user), (campaign, sequence) or code skips the row.
        // RETURNING tells which rows were written.
        var written = new HashSet<RowKey>();
        await using (var insert = new NpgsqlCommand(skipConflicts ? InsertCoupons + " ON CONFLICT DO NOTHING" + Returning : InsertCoupons + Returning, conn, tx))
        {
            insert.Parameters.AddWithValue("c", rows.Select(r => r.CampaignId).ToArray());
            insert.Parameters.AddWithValue("s", rows.Select(r => r.Sequence).ToArray());
            insert.Parameters.AddWithValue("u", rows.Select(r => r.UserId).ToArray());
            insert.Parameters.AddWithValue("code", rows.Select(r => r.Code).ToArray());
            insert.Parameters.AddWithValue("w", rows.Select(r => r.Source.WindowIndex).ToArray());
            insert.Parameters.AddWithValue("g", rows.Select(r => r.Source.GrantNo).ToArray());
            insert.Parameters.AddWithValue("at", rows.Select(r => ToDb(r.IssuedAt)).ToArray());
            await using var reader = await insert.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) written.Add(new RowKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)));
        }

        // The stored coupons of the users whose rows were not written. The conflicting rows are committed by now
        // (ON CONFLICT waited for them), so this statement sees them.
        var holders = new Dictionary<(long Campaign, string User), IssuedCoupon>();
        var unwritten = plan.Unwritten(written);
        if (unwritten.Count > 0)
        {
            await using var find = new NpgsqlCommand(
                $"""
                SELECT {CouponColumns} FROM coupons
                WHERE (campaign_id, user_id) IN (SELECT * FROM unnest(@c::bigint[], @u::text[]))
                """, conn, tx);
            find.Parameters.AddWithValue("c", unwritten.Select(r => r.CampaignId).ToArray());
            find.Parameters.AddWithValue("u", unwritten.Select(r => r.UserId).ToArray());
            await using var reader = await find.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var c = ReadCoupon(reader);
                holders[(c.CampaignId, c.UserId)] = c;
            }
        }

        var outcomes = plan.Outcomes(written, holders);
        var counters = CommitPlan.Counters(outcomes);
        if (counters.Count > 0)
        {
            // One round trip: the counters, then the issued events (the outbox), in the same transaction.
            await using var batch = new NpgsqlBatch(conn, tx);
            foreach (var change in counters)
            {
                batch.BatchCommands.Add(change.WindowIndex is { } window
                    ? Update("UPDATE campaign_windows SET issued_count = issued_count + $1 WHERE campaign_id = $2 AND window_index = $3", change.Added, change.CampaignId, window)
                    : Update("UPDATE campaigns SET issued_count = issued_count + $1 WHERE campaign_id = $2", change.Added, change.CampaignId));
            }
            batch.BatchCommands.Add(InsertEvents(CommitPlan.IssuedEvents(outcomes, ToDb(time.GetUtcNow()))));
            await batch.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return outcomes;
    }

    private static NpgsqlBatchCommand Update(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
        return command;
    }

    public async Task<GateSnapshot> ReserveGateSnapshotAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The campaign's row first (FOR UPDATE): a group commit of it holds that row until it commits, so every commit
        // either lands before the snapshot is read or waits for this transaction and counts as "after the rebuild".
        long reserved;
        int total;
        await using (var cmd = new NpgsqlCommand("SELECT sequence_reserved, total_quantity FROM campaigns WHERE campaign_id = @id FOR UPDATE", conn, tx))
        {
            cmd.Parameters.AddWithValue("id", campaignId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct)) throw new InvalidOperationException($"Campaign {campaignId} does not exist.");
            (reserved, total) = (r.GetInt64(0), r.GetInt32(1));
        }
        var coupons = new List<IssuedCoupon>();
        await using (var cmd = new NpgsqlCommand($"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @id", conn, tx))
        {
            cmd.Parameters.AddWithValue("id", campaignId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) coupons.Add(ReadCoupon(r));
        }
        var (snapshot, newReserved) = GateSnapshot.Reserve(coupons, reserved, total);
        await conn.ExecuteAsync(Cmd("UPDATE campaigns SET sequence_reserved = @newReserved WHERE campaign_id = @campaignId", new { newReserved, campaignId }, ct, tx));
        await tx.CommitAsync(ct);
        return snapshot;
    }

    public async Task<InvariantReport> CheckInvariantsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return await InvariantQuery.RunAsync(conn, campaignId, System.Data.IsolationLevel.RepeatableRead, ct);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand("SELECT 1");
        return await cmd.ExecuteScalarAsync(ct) is 1;
    }

    private async Task<List<IssuedCoupon>> QueryCouponsAsync(string sql, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        await using var cmd = _db.CreateCommand(sql);
        cmd.Parameters.AddRange(parameters);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var coupons = new List<IssuedCoupon>();
        while (await reader.ReadAsync(ct)) coupons.Add(ReadCoupon(reader));
        return coupons;
    }

    // Column order of CouponColumns.
    private static IssuedCoupon ReadCoupon(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4),
            CouponSource.Of(r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt32(6)),
            r.IsDBNull(7) ? null : r.GetString(7), Time(r, 8), Time(r, 9), Time(r, 10));

    private static DateTimeOffset? Time(NpgsqlDataReader r, int column) => r.IsDBNull(column) ? null : r.GetFieldValue<DateTimeOffset>(column);

    // Npgsql writes timestamptz only from UTC values; whole milliseconds match the SQLite store.
    private static DateTimeOffset ToDb(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    private static CommandDefinition Cmd(string sql, object? parameters, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        new(sql, parameters, tx, cancellationToken: ct);
}
