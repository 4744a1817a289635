using System.Data;
using System.Globalization;
using CouponLive.Campaigns;
using CouponLive.Events;
using CouponLive.Issuance;
using Dapper;
using Microsoft.Data.Sqlite;

namespace CouponLive.Storage;

/// <summary>
/// Embedded-mode store: one SQLite file in WAL mode with synchronous=FULL, so a committed
/// group survives a process kill (I5). Constraints re-check I1-I3 (see Migrations).
/// </summary>
public sealed partial class SqliteCouponStore(string databasePath, TimeProvider? time = null) : ICouponStore, IEventStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = databasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        DefaultTimeout = 30, // seconds a writer waits on a busy database
    }.ToString();

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("PRAGMA journal_mode=WAL;");
        await SqliteMigrations.ApplyAsync(conn, ct);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var conn = new SqliteConnection(_connectionString);
        await conn.OpenAsync(ct);
        // A 32 MiB page cache (filled on demand, per pooled connection) keeps a sale's random-keyed index
        // pages in memory: with the 2 MiB default every commit re-read them with pread (~4% of server CPU).
        await conn.ExecuteAsync("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;");
        return conn;
    }

    public async Task<string?> GetMetaAsync(string key, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteScalarAsync<string?>("SELECT value FROM meta WHERE key = @key", new { key });
    }

    public async Task<string> GetOrAddMetaAsync(string key, string value, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("INSERT INTO meta(key, value) VALUES (@key, @value) ON CONFLICT(key) DO NOTHING", new { key, value });
        return await conn.ExecuteScalarAsync<string>("SELECT value FROM meta WHERE key = @key", new { key }) ?? value;
    }

    public async Task<bool> TryCreateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var n = await conn.ExecuteAsync(
            """
            INSERT INTO users(user_id, login_id, password_hash, role, created_at)
            VALUES (@UserId, @LoginId, @PasswordHash, @Role, @CreatedAt)
            ON CONFLICT(login_id) DO NOTHING
            """,
            new { user.UserId, user.LoginId, user.PasswordHash, user.Role, CreatedAt = user.CreatedAt.ToUnixTimeMilliseconds() });
        return n == 1;
    }

    public async Task<UserAccount?> FindUserByLoginAsync(string loginId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<UserRow>(
            "SELECT user_id AS UserId, login_id AS LoginId, password_hash AS PasswordHash, role AS Role, created_at AS CreatedAt FROM users WHERE login_id = @loginId",
            new { loginId });
        return row is null ? null : new UserAccount(row.UserId, row.LoginId, row.PasswordHash, row.Role, FromMs(row.CreatedAt));
    }

    public async Task UpdateUserAsync(UserAccount user, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await conn.ExecuteAsync("UPDATE users SET password_hash = @PasswordHash, role = @Role WHERE user_id = @UserId",
            new { user.PasswordHash, user.Role, user.UserId });
    }

    public async Task<long?> TryCreateCampaignAsync(CampaignDefinition d, DateTimeOffset createdAt, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        await using var tx = conn.BeginTransaction(deferred: false);
        var id = await conn.ExecuteScalarAsync<long?>(
            """
            INSERT INTO campaigns(name, total_quantity, coupon_valid_until, benefit_type, benefit_value, created_at)
            VALUES (@Name, @TotalQuantity, @ValidUntil, @BenefitType, @BenefitValue, @CreatedAt)
            ON CONFLICT(name) DO NOTHING
            RETURNING campaign_id
            """,
            new
            {
                d.Name,
                d.TotalQuantity,
                ValidUntil = d.CouponValidUntil?.ToUnixTimeMilliseconds(),
                BenefitType = d.Benefit?.Type,
                BenefitValue = d.Benefit?.Value.ToString(CultureInfo.InvariantCulture),
                CreatedAt = createdAt.ToUnixTimeMilliseconds(),
            },
            tx);
        if (id is null) return null;
        await conn.ExecuteAsync(
            "INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota) VALUES (@id, @Index, @StartsAt, @EndsAt, @Quota)",
            d.Windows.Select((w, i) => new { id, Index = i, StartsAt = w.StartsAt.ToUnixTimeMilliseconds(), EndsAt = w.EndsAt.ToUnixTimeMilliseconds(), w.Quota }),
            tx);
        await InsertEventsAsync(conn, tx, [OutboxEvents.CampaignCreated(id.Value, d, createdAt)], ct);
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<StoredCampaign?> GetCampaignAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await ReadCampaignAsync(conn, null, campaignId))?.Campaign;
    }

    private static async Task<(StoredCampaign Campaign, CampaignCounts Counts)?> ReadCampaignAsync(SqliteConnection conn, SqliteTransaction? tx, long campaignId)
    {
        var c = await conn.QuerySingleOrDefaultAsync<CampaignRow>(
            """
            SELECT campaign_id AS Id, name AS Name, total_quantity AS TotalQuantity, coupon_valid_until AS ValidUntil,
                   benefit_type AS BenefitType, benefit_value AS BenefitValue, created_at AS CreatedAt, version AS Version,
                   paused_at AS PausedAt, cancelled_at AS CancelledAt, issued_revoked AS IssuedRevoked, issued_count AS Issued
            FROM campaigns WHERE campaign_id = @campaignId
            """, new { campaignId }, tx);
        if (c is null) return null;
        var windowRows = (await conn.QueryAsync<WindowRow>(
            "SELECT starts_at AS StartsAt, ends_at AS EndsAt, quota AS Quota, issued_count AS Issued FROM campaign_windows WHERE campaign_id = @campaignId ORDER BY window_index",
            new { campaignId }, tx)).ToList();
        var windows = windowRows.Select(w => new CampaignWindow(FromMs(w.StartsAt), FromMs(w.EndsAt), w.Quota is null ? null : (int)w.Quota)).ToList();
        var benefit = c.BenefitType is null ? null : new Benefit(c.BenefitType, decimal.Parse(c.BenefitValue!, CultureInfo.InvariantCulture));
        return (new StoredCampaign(c.Id, c.Name, (int)c.TotalQuantity, windows, FromMs(c.ValidUntil), benefit, FromMs(c.CreatedAt),
            (int)c.Version, FromMs(c.PausedAt), FromMs(c.CancelledAt), c.IssuedRevoked != 0),
            new CampaignCounts((int)c.Issued, [.. windowRows.Select(w => (int)w.Issued)]));
    }

    public async Task<ICampaignEdit?> BeginCampaignEditAsync(long campaignId, CancellationToken ct)
    {
        var conn = await OpenAsync(ct);
        // BEGIN IMMEDIATE: the write lock from the start, so no group commit runs until this edit ends.
        return await CampaignEditOpener.OpenAsync(conn,
            () => Task.FromResult(conn.BeginTransaction(deferred: false)),
            tx => ReadCampaignAsync(conn, tx, campaignId),
            (tx, campaign, counts) => new Edit(conn, tx, campaign, counts));
    }

    public async Task<IReadOnlyList<AuditEntry>> ListAuditAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<AuditRow>(
            "SELECT at AS At, actor AS Actor, action AS Action, changes AS Changes FROM campaign_audit WHERE campaign_id = @campaignId ORDER BY audit_id DESC LIMIT @limit",
            new { campaignId, limit });
        return rows.Select(r => new AuditEntry(FromMs(r.At), r.Actor, r.Action, AuditJson.Read(r.Changes))).ToList();
    }

    public async Task<IReadOnlyDictionary<long, int>> GetCampaignVersionsAsync(IReadOnlyCollection<long> campaignIds, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<(long Id, long Version)>("SELECT campaign_id, version FROM campaigns WHERE campaign_id IN @campaignIds", new { campaignIds });
        return rows.ToDictionary(r => r.Id, r => (int)r.Version);
    }

    private sealed class Edit(SqliteConnection conn, SqliteTransaction tx, StoredCampaign current, CampaignCounts counts) : ICampaignEdit
    {
        private StoredCampaign _written = current;

        public StoredCampaign Current { get; } = current;
        public CampaignCounts Counts { get; } = counts;

        public async Task<bool> WriteAsync(StoredCampaign c, CancellationToken ct)
        {
            if (await conn.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM campaigns WHERE name = @Name AND campaign_id <> @Id", new { c.Name, c.Id }, tx) > 0)
                return false;
            await conn.ExecuteAsync(
                """
                UPDATE campaigns SET sequence_reserved = sequence_reserved + MAX(@TotalQuantity - total_quantity, 0), name = @Name, total_quantity = @TotalQuantity, coupon_valid_until = @ValidUntil, benefit_type = @BenefitType,
                    benefit_value = @BenefitValue, version = @Version, paused_at = @PausedAt, cancelled_at = @CancelledAt, issued_revoked = @IssuedRevoked
                WHERE campaign_id = @Id
                """,
                new
                {
                    c.Name,
                    c.TotalQuantity,
                    ValidUntil = c.CouponValidUntil?.ToUnixTimeMilliseconds(),
                    BenefitType = c.Benefit?.Type,
                    BenefitValue = c.Benefit?.Value.ToString(CultureInfo.InvariantCulture),
                    c.Version,
                    PausedAt = c.PausedAt?.ToUnixTimeMilliseconds(),
                    CancelledAt = c.CancelledAt?.ToUnixTimeMilliseconds(),
                    c.IssuedRevoked,
                    c.Id,
                }, tx);
            // A higher quantity raises the high-water mark of sequence numbers by as much (GateSnapshot.Reserve). Windows
            // keep their index: started ones are unchanged, later ones are rewritten, extra ones dropped (never one that
            // holds coupons: the plan refuses it, and the statement keeps it).
            await conn.ExecuteAsync(
                """
                INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at, quota) VALUES (@Id, @Index, @StartsAt, @EndsAt, @Quota)
                ON CONFLICT(campaign_id, window_index) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, quota = excluded.quota
                """,
                c.Windows.Select((w, i) => new { c.Id, Index = i, StartsAt = w.StartsAt.ToUnixTimeMilliseconds(), EndsAt = w.EndsAt.ToUnixTimeMilliseconds(), w.Quota }),
                tx);
            await conn.ExecuteAsync("DELETE FROM campaign_windows WHERE campaign_id = @Id AND window_index >= @Count AND issued_count = 0", new { c.Id, c.Windows.Count }, tx);
            _written = c;
            return true;
        }

        public async Task CommitAsync(AuditEntry audit, CancellationToken ct)
        {
            await conn.ExecuteAsync("INSERT INTO campaign_audit(campaign_id, at, actor, action, changes) VALUES (@id, @at, @actor, @action, @changes)",
                new { id = Current.Id, at = audit.At.ToUnixTimeMilliseconds(), actor = audit.Actor, action = audit.Action, changes = AuditJson.Write(audit.Changes) }, tx);
            await InsertEventsAsync(conn, tx, [OutboxEvents.CampaignChanged(_written, audit)], ct);
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
        return await conn.ExecuteScalarAsync<long?>("SELECT campaign_id FROM campaigns WHERE name = @name", new { name });
    }

    public async Task<CampaignCounts> GetCountsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var issued = await conn.ExecuteScalarAsync<long?>("SELECT issued_count FROM campaigns WHERE campaign_id = @campaignId", new { campaignId }) ?? 0;
        var perWindow = (await conn.QueryAsync<long>(
            "SELECT issued_count FROM campaign_windows WHERE campaign_id = @campaignId ORDER BY window_index", new { campaignId }))
            .Select(n => (int)n).ToList();
        var redeemed = await conn.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM coupons WHERE campaign_id = @campaignId AND redeemed_at IS NOT NULL", new { campaignId });
        return new CampaignCounts((int)issued, perWindow, (int)redeemed);
    }

    private const string CouponColumns =
        "campaign_id AS CampaignId, user_id AS UserId, sequence AS Sequence, code AS Code, issued_at AS IssuedAt, window_index AS WindowIndex, grant_no AS GrantNo, " +
        "order_id AS OrderId, redeemed_at AS RedeemedAt, redemption_cancelled_at AS RedemptionCancelledAt, revoked_at AS RevokedAt";

    public async Task<IReadOnlyList<IssuedCoupon>> ListCouponsAsync(long campaignId, long afterSequence, int limit, CouponFilter filter, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<CouponRow>(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence > @afterSequence{CouponFilters.Sql(filter)} ORDER BY sequence LIMIT @limit",
            new { campaignId, afterSequence, limit });
        return rows.Select(ToCoupon).ToList();
    }

    public Task<CouponChange> RedeemCouponAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedeemed, at, orderId, "order_id = @orderId, redeemed_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND redeemed_at IS NULL AND revoked_at IS NULL",
            new { campaignId, sequence, orderId, at = at.ToUnixTimeMilliseconds() }, campaignId, sequence, ct);

    public Task<CouponChange> CancelRedemptionAsync(long campaignId, long sequence, string orderId, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRedemptionCancelled, at, orderId, "order_id = NULL, redeemed_at = NULL, redemption_cancelled_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND order_id = @orderId",
            new { campaignId, sequence, orderId, at = at.ToUnixTimeMilliseconds() }, campaignId, sequence, ct);

    public Task<CouponChange> RevokeCouponAsync(long campaignId, long sequence, DateTimeOffset at, CancellationToken ct) =>
        ChangeCouponAsync(EventTypes.CouponRevoked, at, null, "revoked_at = @at WHERE campaign_id = @campaignId AND sequence = @sequence AND revoked_at IS NULL",
            new { campaignId, sequence, at = at.ToUnixTimeMilliseconds() }, campaignId, sequence, ct);

    /// <summary>
    /// One conditional UPDATE (SQLite runs one writer at a time) and, if it changed the row, its event, in one
    /// transaction; if it changed nothing, the row as it is.
    /// </summary>
    private async Task<CouponChange> ChangeCouponAsync(
        string eventType, DateTimeOffset at, string? orderId, string setAndWhere, object parameters, long campaignId, long sequence, CancellationToken ct)
    {
        await using (var conn = await OpenAsync(ct))
        {
            await using var tx = conn.BeginTransaction(deferred: false);
            var changed = await conn.QuerySingleOrDefaultAsync<CouponRow>($"UPDATE coupons SET {setAndWhere} RETURNING {CouponColumns}", parameters, tx);
            if (changed is not null)
            {
                var coupon = ToCoupon(changed);
                // The order id given, not the row's: a cancelled redemption's row no longer holds it.
                await InsertEventsAsync(conn, tx, [OutboxEvents.Changed(eventType, coupon, FromMs(at.ToUnixTimeMilliseconds()), orderId)], ct);
                await tx.CommitAsync(ct);
                return new CouponChange(true, coupon);
            }
        }
        return new CouponChange(false, await FindCouponAsync(campaignId, sequence, ct));
    }

    public async Task<IReadOnlyList<IssuedCoupon>> ListRecentCouponsAsync(long campaignId, int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<CouponRow>(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId ORDER BY sequence DESC LIMIT @limit", new { campaignId, limit });
        return rows.Select(ToCoupon).ToList();
    }

    public async Task<IReadOnlyList<long>> ListCampaignIdsAsync(int limit, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await conn.QueryAsync<long>("SELECT campaign_id FROM campaigns ORDER BY campaign_id DESC LIMIT @limit", new { limit })).ToList();
    }

    public async Task<IReadOnlyList<long>> ListActiveCampaignIdsAsync(DateTimeOffset endsAfter, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return (await conn.QueryAsync<long>("SELECT DISTINCT campaign_id FROM campaign_windows WHERE ends_at > @endsAfter",
            new { endsAfter = endsAfter.ToUnixTimeMilliseconds() })).ToList();
    }

    public async Task<IReadOnlyList<IssuedCoupon>> ListUserCouponsAsync(string userId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var rows = await conn.QueryAsync<CouponRow>(
            $"SELECT {CouponColumns} FROM coupons WHERE user_id = @userId ORDER BY issued_at, campaign_id", new { userId });
        return rows.Select(ToCoupon).ToList();
    }

    public async Task<IssuedCoupon?> FindCouponAsync(long campaignId, long sequence, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<CouponRow>(
            $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId AND sequence = @sequence", new { campaignId, sequence });
        return row is null ? null : ToCoupon(row);
    }

    public async Task<IReadOnlyList<CommitOutcome>> CommitAsync(IReadOnlyList<IssuedCoupon> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        await using var conn = await OpenAsync(ct);
        // Every stage skips a holder's row (ON CONFLICT is cheap here); a refused group goes row by row (CommitPlan).
        return await CommitPlan.RunAsync(batch, (plan, _) => Task.FromResult(CommitGroup(conn, plan, _time)), IsRefusal);
    }

    private static bool IsRefusal(Exception ex) => ex is SqliteException { SqliteErrorCode: 19 }; // SQLITE_CONSTRAINT

    private static CommitOutcome[] CommitGroup(SqliteConnection conn, CommitPlan plan, TimeProvider time)
    {
        using var tx = conn.BeginTransaction(deferred: false);
        using var insert = conn.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText =
            """
            INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, grant_no, issued_at, committed_at)
            VALUES ($c, $s, $u, $code, $w, $g, $at, $now)
            ON CONFLICT(user_id, campaign_id) DO NOTHING
            """;
        var pc = insert.Parameters.Add("$c", SqliteType.Integer);
        var ps = insert.Parameters.Add("$s", SqliteType.Integer);
        var pu = insert.Parameters.Add("$u", SqliteType.Text);
        var pcode = insert.Parameters.Add("$code", SqliteType.Text);
        var pw = insert.Parameters.Add("$w", SqliteType.Integer);
        var pg = insert.Parameters.Add("$g", SqliteType.Integer);
        var pat = insert.Parameters.Add("$at", SqliteType.Integer);
        insert.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var written = new HashSet<RowKey>();
        foreach (var coupon in plan.Rows)
        {
            pc.Value = coupon.CampaignId;
            ps.Value = coupon.Sequence;
            pu.Value = coupon.UserId;
            pcode.Value = coupon.Code;
            pw.Value = (object?)coupon.Source.WindowIndex ?? DBNull.Value;
            pg.Value = (object?)coupon.Source.GrantNo ?? DBNull.Value;
            pat.Value = coupon.IssuedAt.ToUnixTimeMilliseconds();
            if (insert.ExecuteNonQuery() == 1) written.Add(RowKey.Of(coupon));
        }
        var holders = new Dictionary<(long Campaign, string User), IssuedCoupon>();
        foreach (var coupon in plan.Unwritten(written))
        {
            var existing = conn.QuerySingleOrDefault<CouponRow>(
                $"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @CampaignId AND user_id = @UserId",
                new { coupon.CampaignId, coupon.UserId }, tx);
            if (existing is not null) holders[(coupon.CampaignId, coupon.UserId)] = ToCoupon(existing);
        }

        var outcomes = plan.Outcomes(written, holders);
        var counters = CommitPlan.Counters(outcomes);
        foreach (var change in counters)
        {
            if (change.WindowIndex is { } window)
                conn.Execute("UPDATE campaign_windows SET issued_count = issued_count + @n WHERE campaign_id = @campaign AND window_index = @window",
                    new { n = change.Added, campaign = change.CampaignId, window }, tx);
            else
                conn.Execute("UPDATE campaigns SET issued_count = issued_count + @n WHERE campaign_id = @campaign", new { n = change.Added, campaign = change.CampaignId }, tx);
        }
        // The issued events (the outbox), in the same transaction as the coupons they report.
        if (counters.Count > 0) InsertEvents(conn, tx, CommitPlan.IssuedEvents(outcomes, FromMs(time.GetUtcNow().ToUnixTimeMilliseconds())));
        tx.Commit();
        return outcomes;
    }

    public async Task<GateSnapshot> ReserveGateSnapshotAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // BEGIN IMMEDIATE: the write lock, so no group commit lands between the snapshot and the new mark.
        await using var tx = conn.BeginTransaction(deferred: false);
        var row = await conn.QuerySingleOrDefaultAsync<(long Reserved, long Total)?>(
            "SELECT sequence_reserved, total_quantity FROM campaigns WHERE campaign_id = @campaignId", new { campaignId }, tx)
            ?? throw new InvalidOperationException($"Campaign {campaignId} does not exist.");
        var rows = await conn.QueryAsync<CouponRow>($"SELECT {CouponColumns} FROM coupons WHERE campaign_id = @campaignId", new { campaignId }, tx);
        var (snapshot, reserved) = GateSnapshot.Reserve(rows.Select(ToCoupon).ToList(), row.Reserved, (int)row.Total);
        await conn.ExecuteAsync("UPDATE campaigns SET sequence_reserved = @reserved WHERE campaign_id = @campaignId", new { reserved, campaignId }, tx);
        await tx.CommitAsync(ct);
        return snapshot;
    }

    public async Task<InvariantReport> CheckInvariantsAsync(long campaignId, CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        // A read transaction in WAL mode reads one snapshot from its first statement on.
        return await InvariantQuery.RunAsync(conn, campaignId, System.Data.IsolationLevel.Serializable, ct);
    }

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        await using var conn = await OpenAsync(ct);
        return await conn.ExecuteScalarAsync<long>("SELECT 1") == 1;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? FromMs(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    private static IssuedCoupon ToCoupon(CouponRow r) =>
        new(r.CampaignId, r.UserId, r.Sequence, r.Code, FromMs(r.IssuedAt), CouponSource.Of((int?)r.WindowIndex, (int?)r.GrantNo),
            r.OrderId, FromMs(r.RedeemedAt), FromMs(r.RedemptionCancelledAt), FromMs(r.RevokedAt));

    private sealed record UserRow(string UserId, string LoginId, string PasswordHash, string Role, long CreatedAt);
    private sealed record CampaignRow(long Id, string Name, long TotalQuantity, long? ValidUntil, string? BenefitType, string? BenefitValue, long CreatedAt,
        long Version, long? PausedAt, long? CancelledAt, long IssuedRevoked, long Issued);
    private sealed record AuditRow(long At, string Actor, string Action, string Changes);
    private sealed record WindowRow(long StartsAt, long EndsAt, long? Quota, long Issued);
    private sealed record CouponRow(long CampaignId, string UserId, long Sequence, string Code, long IssuedAt, long? WindowIndex, long? GrantNo,
        string? OrderId, long? RedeemedAt, long? RedemptionCancelledAt, long? RevokedAt);
}
