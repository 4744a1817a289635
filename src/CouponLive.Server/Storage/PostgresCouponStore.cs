using CouponLive.Campaigns;
using Dapper;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>
/// Production-mode store: one PostgreSQL database shared by every server process, reached through
/// one <see cref="NpgsqlDataSource"/> (one connection pool). Its constraints re-check I1-I3 (see
/// <see cref="PostgresMigrations"/>). Times are timestamptz, truncated to whole milliseconds on the
/// way in, so both stores give back the same values.
/// </summary>
public sealed partial class PostgresCouponStore(NpgsqlDataSource db) : ICouponStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _db = db;
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
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<StoredCampaign?> GetCampaignAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        return (await ReadCampaignAsync(conn, null, campaignId, ct))?.Campaign;
    }

    /// <summary>The campaign and its committed count; inside <paramref name="tx"/> its row stays locked until the transaction ends.</summary>
    private static Task<(StoredCampaign Campaign, int Issued)?> ReadCampaignAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long campaignId, CancellationToken ct) =>
        CampaignRows.ReadAsync(conn, tx, campaignId, static (r, c) => r.GetFieldValue<DateTimeOffset>(c), ct);

    public async Task<ICampaignEdit?> BeginCampaignEditAsync(long campaignId, CancellationToken ct)
    {
        var conn = await _db.OpenConnectionAsync(ct);
        return await CampaignEditOpener.OpenAsync(conn,
            async () => await conn.BeginTransactionAsync(ct),
            tx => ReadCampaignAsync(conn, tx, campaignId, ct),
            (tx, campaign, issued) => new Edit(conn, tx, campaign, issued));
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
    private sealed class Edit(NpgsqlConnection conn, NpgsqlTransaction tx, StoredCampaign current, int issued) : ICampaignEdit
    {
        public StoredCampaign Current { get; } = current;
        public int IssuedCount { get; } = issued;

        public async Task<bool> WriteAsync(StoredCampaign c, CancellationToken ct)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            batch.BatchCommands.Add(Update(
                """
                UPDATE campaigns SET name = $1, total_quantity = $2, coupon_valid_until = $3, benefit_type = $4, benefit_value = $5,
                    version = $6, paused_at = $7, cancelled_at = $8, issued_revoked = $9
                WHERE campaign_id = $10 AND NOT EXISTS (SELECT 1 FROM campaigns WHERE name = $1 AND campaign_id <> $10)
                """,
                c.Name, c.TotalQuantity, Nullable(c.CouponValidUntil), (object?)c.Benefit?.Type ?? DBNull.Value, (object?)c.Benefit?.Value ?? DBNull.Value,
                c.Version, Nullable(c.PausedAt), Nullable(c.CancelledAt), c.IssuedRevoked, c.Id));
            // Windows keep their index: started ones are unchanged, later ones are rewritten, extra ones dropped.
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
            batch.BatchCommands.Add(Update("DELETE FROM campaign_windows WHERE campaign_id = $1 AND window_index >= $2", c.Id, c.Windows.Count));
            try
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return false; // a campaign created with this name meanwhile; the transaction is rolled back on dispose
            }
            return batch.BatchCommands[0].RecordsAffected == 1;
        }

        public async Task CommitAsync(AuditEntry audit, CancellationToken ct)
        {
            await conn.ExecuteAsync(Cmd("INSERT INTO campaign_audit(campaign_id, at, actor, action, changes) VALUES (@id, @at, @actor, @action, @changes)",
                new { id = Current.Id, at = ToDb(audit.At), actor = audit.Actor, action = audit.Action, changes = AuditJson.Write(audit.Changes) }, ct, tx));
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
        "campaign_id, user_id, sequence, code, issued_at, COALESCE(window_index, -grant_no), order_id, redeemed_at, redemption_cancelled_at, revoked_at";

    public async Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CouponFilter filter, CancellationToken ct) =>
        await QueryCouponsAsync(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence > @afterSequence{CouponFilters.Sql(filter)} ORDER BY sequence LIMIT @limit",
            [new("campaignId", campaignId), new("afterSequence", afterSequence), new("limit", limit)], ct);

    public Task<CouponChange> RedeemCouponAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(campaignId, sequence,
            "order_id = @orderId, redeemed_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND redeemed_at IS NULL AND revoked_at IS NULL",
            [new("orderId", orderId), new("at", ToDb(at))], ct);

    public Task<CouponChange> CancelRedemptionAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(campaignId, sequence,
            "order_id = NULL, redeemed_at = NULL, redemption_cancelled_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND order_id = @orderId",
            [new("orderId", orderId), new("at", ToDb(at))], ct);

    public Task<CouponChange> RevokeCouponAsync(long campaignId, long sequence, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(campaignId, sequence,
            "revoked_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND revoked_at IS NULL",
            [new("at", ToDb(at))], ct);

    /// <summary>One conditional UPDATE (the row lock decides between concurrent callers), then, if it changed nothing, the row as it is.</summary>
    private async Task<CouponChange> ChangeCouponAsync(long campaignId, long sequence, string setAndWhere, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        NpgsqlParameter[] key = [new("campaignId", campaignId), new("sequence", sequence)];
        var changed = await QueryCouponsAsync($"UPDATE coupons SET {setAndWhere} RETURNING {CouponColumns}", [.. parameters, .. key], ct);
        if (changed.Count == 1) return new CouponChange(true, changed[0]);
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
        try
        {
            // The gate admits each user once, so a sale's groups almost never clash with stored rows:
            // insert without ON CONFLICT, whose pre-check of every unique index cost PostgreSQL twice
            // the insert itself. A clash (a retried or reconciled admission) or any other refusal rolls
            // back the group; it is redone skipping clashes, then row by row if still refused.
            return await CommitGroupAsync(conn, batch, skipConflicts: false, ct);
        }
        catch (PostgresException ex) when (IsConstraintViolation(ex))
        {
        }
        try
        {
            return await CommitGroupAsync(conn, batch, skipConflicts: true, ct);
        }
        catch (PostgresException ex) when (IsConstraintViolation(ex))
        {
            // A counter CHECK (over-issue) or another constraint rolled back the whole group: commit
            // the rows one by one so the others still land and only the offending ones are rejected.
            var outcomes = new CommitOutcome[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                try
                {
                    outcomes[i] = (await CommitGroupAsync(conn, [batch[i]], skipConflicts: true, ct))[0];
                }
                catch (PostgresException single) when (IsConstraintViolation(single))
                {
                    outcomes[i] = new CommitOutcome(CommitStatus.Rejected, null);
                }
            }
            return outcomes;
        }
    }

    // Class 23 = integrity constraint violation. Anything else (connection lost, shutdown,
    // deadlock, serialization) propagates: nothing was committed and the caller retries.
    private static bool IsConstraintViolation(PostgresException ex) => ex.SqlState.StartsWith("23", StringComparison.Ordinal);

    private const string InsertCoupons =
        """
        INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, grant_no, issued_at, committed_at)
        SELECT c, s, u, code, CASE WHEN w >= 0 THEN w END, CASE WHEN w < 0 THEN -w END, at, now()
        FROM unnest(@c::bigint[], @s::bigint[], @u::text[], @code::text[], @w::integer[], @at::timestamptz[]) AS t(c, s, u, code, w, at)
        WHERE t.w < 0 OR EXISTS (SELECT 1 FROM campaign_windows cw WHERE cw.campaign_id = t.c AND cw.window_index = t.w)
        ORDER BY t.c, t.s
        """;

    private const string Returning = " RETURNING campaign_id, sequence, user_id";

    private static async Task<CommitOutcome[]> CommitGroupAsync(NpgsqlConnection conn, IReadOnlyList<IssuedCoupon> batch, bool skipConflicts, CancellationToken ct)
    {
        // Rows go in (campaign, sequence) order, so two writers inserting overlapping keys wait
        // on each other in the same order instead of deadlocking. OrderBy is stable.
        var rows = batch.OrderBy(c => c.CampaignId).ThenBy(c => c.Sequence).ToArray();
        await using var tx = await conn.BeginTransactionAsync(ct);

        // With skipConflicts, ON CONFLICT without a target: a clash on (campaign, user), (campaign,
        // sequence) or code skips the row instead of failing the group. RETURNING tells which rows
        // were written; a row whose window does not exist is kept out (rejected below). A negative
        // window is the grant that issued the coupon: stored as grant_no, with no window.
        var written = new HashSet<(long Campaign, long Sequence, string User)>();
        await using (var insert = new NpgsqlCommand(skipConflicts ? InsertCoupons + " ON CONFLICT DO NOTHING" + Returning : InsertCoupons + Returning, conn, tx))
        {
            insert.Parameters.AddWithValue("c", rows.Select(r => r.CampaignId).ToArray());
            insert.Parameters.AddWithValue("s", rows.Select(r => r.Sequence).ToArray());
            insert.Parameters.AddWithValue("u", rows.Select(r => r.UserId).ToArray());
            insert.Parameters.AddWithValue("code", rows.Select(r => r.Code).ToArray());
            insert.Parameters.AddWithValue("w", rows.Select(r => r.WindowIndex).ToArray());
            insert.Parameters.AddWithValue("at", rows.Select(r => ToDb(r.IssuedAt)).ToArray());
            await using var reader = await insert.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) written.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)));
        }

        var outcomes = new CommitOutcome[batch.Count];
        var skipped = new List<int>();
        var perCampaign = new SortedDictionary<long, int>();
        var perWindow = new SortedDictionary<(long Campaign, int Window), int>();
        for (var i = 0; i < batch.Count; i++)
        {
            var coupon = batch[i];
            // Remove: if the very same row came twice, only its first occurrence counts as written.
            if (written.Remove((coupon.CampaignId, coupon.Sequence, coupon.UserId)))
            {
                outcomes[i] = new CommitOutcome(CommitStatus.Inserted, coupon);
                perCampaign[coupon.CampaignId] = perCampaign.GetValueOrDefault(coupon.CampaignId) + 1;
                // A granted coupon (negative window: its grant) counts for the campaign only.
                if (coupon.WindowIndex >= 0)
                    perWindow[(coupon.CampaignId, coupon.WindowIndex)] = perWindow.GetValueOrDefault((coupon.CampaignId, coupon.WindowIndex)) + 1;
            }
            else
            {
                skipped.Add(i);
            }
        }

        if (skipped.Count > 0)
        {
            // A skipped row whose user holds a coupon is Existing (that coupon); otherwise it
            // clashed on code or sequence with another user's row and is Rejected. The conflicting
            // rows are committed by now (ON CONFLICT waited for them), so this statement sees them.
            var stored = new Dictionary<(long Campaign, string User), IssuedCoupon>();
            await using (var find = new NpgsqlCommand(
                $"""
                SELECT {CouponColumns} FROM coupons
                WHERE (campaign_id, user_id) IN (SELECT * FROM unnest(@c::bigint[], @u::text[]))
                """, conn, tx))
            {
                find.Parameters.AddWithValue("c", skipped.Select(i => batch[i].CampaignId).ToArray());
                find.Parameters.AddWithValue("u", skipped.Select(i => batch[i].UserId).ToArray());
                await using var reader = await find.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var c = ReadCoupon(reader);
                    stored[(c.CampaignId, c.UserId)] = c;
                }
            }
            foreach (var i in skipped)
            {
                outcomes[i] = stored.TryGetValue((batch[i].CampaignId, batch[i].UserId), out var existing)
                    ? new CommitOutcome(CommitStatus.Existing, existing)
                    : new CommitOutcome(CommitStatus.Rejected, null);
            }
        }

        if (perCampaign.Count > 0)
        {
            // The counters move in the same transaction; their CHECK constraints refuse over-issue (I1).
            // Rows are locked in ascending (campaign, window) order, the same in every process, so
            // concurrent groups queue on the counter rows instead of deadlocking. One round trip.
            await using var counters = new NpgsqlBatch(conn, tx);
            foreach (var (campaign, added) in perCampaign)
            {
                counters.BatchCommands.Add(Update("UPDATE campaigns SET issued_count = issued_count + $1 WHERE campaign_id = $2", added, campaign));
                foreach (var ((_, window), n) in perWindow.Where(w => w.Key.Campaign == campaign))
                {
                    counters.BatchCommands.Add(Update(
                        "UPDATE campaign_windows SET issued_count = issued_count + $1 WHERE campaign_id = $2 AND window_index = $3", n, campaign, window));
                }
            }
            await counters.ExecuteNonQueryAsync(ct);
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

    public async Task<GateSnapshot> LoadGateSnapshotAsync(long campaignId, CancellationToken ct)
    {
        var coupons = await QueryCouponsAsync($"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId", [new("campaignId", campaignId)], ct);
        return new GateSnapshot(coupons, coupons.Count == 0 ? 0 : coupons.Max(c => c.Sequence));
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
        new(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4), r.GetInt32(5),
            r.IsDBNull(6) ? null : r.GetString(6), Time(r, 7), Time(r, 8), Time(r, 9));

    private static DateTimeOffset? Time(NpgsqlDataReader r, int column) => r.IsDBNull(column) ? null : r.GetFieldValue<DateTimeOffset>(column);

    // Npgsql writes timestamptz only from UTC values; whole milliseconds match the SQLite store.
    private static DateTimeOffset ToDb(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    private static CommandDefinition Cmd(string sql, object? parameters, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        new(sql, parameters, tx, cancellationToken: ct);
}
