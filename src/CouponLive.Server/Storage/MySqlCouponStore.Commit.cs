using System.Data;
using System.Globalization;
using System.Text;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>
/// The group commit in MySQL (see <see cref="CommitPlan"/>): one multi-row INSERT and the counter UPDATEs in one
/// transaction. MySQL has no ON CONFLICT DO NOTHING that skips only unique clashes (INSERT IGNORE also skips CHECK
/// violations, so it would let over-issue through), so the skipping is done by reading the holders first.
/// </summary>
public sealed partial class MySqlCouponStore
{
    public async Task<IReadOnlyList<CommitOutcome>> CommitAsync(IReadOnlyList<IssuedCoupon> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        await using var conn = await OpenAsync(ct);
        return await CommitPlan.RunAsync(batch, (plan, skipHolders) => RetryDeadlocksAsync(() => CommitGroupAsync(conn, plan, skipHolders, _time, ct)), IsRefusal);
    }

    // A refusal by the data: a unique clash, a CHECK (over-issue), a value the column cannot hold. Anything else
    // (connection lost, shutdown, lock wait timeout, an error the rows did not cause) propagates: nothing was
    // committed and the writer decides.
    private static bool IsRefusal(Exception ex) => ex is MySqlException my && IsConstraintViolation(my);

    private static bool IsConstraintViolation(MySqlException ex) =>
        ex.Number is DuplicateKey or CheckViolatedMariaDb or CheckViolatedMySql or DataTooLong or OutOfRange;

    /// <summary>
    /// Writers that meet on the same keys from different sides (a reconciler replaying a live writer's rows) can
    /// deadlock; InnoDB then rolls one transaction back whole, so running it again is safe.
    /// </summary>
    private static async Task<T> RetryDeadlocksAsync<T>(Func<Task<T>> attempt)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await attempt();
            }
            catch (MySqlException ex) when (ex.Number == Deadlock && tries < DeadlockRetries)
            {
                await Task.Delay(Random.Shared.Next(1, 10 * tries));
            }
        }
    }

    /// <summary>
    /// One transaction of the plan; with <paramref name="skipHolders"/> the rows of users who hold a coupon are left out.
    /// The issued events (the outbox) are written with the counters, at <paramref name="time"/>'s now.
    /// </summary>
    private static async Task<CommitOutcome[]> CommitGroupAsync(MySqlConnection conn, CommitPlan plan, bool skipHolders, TimeProvider time, CancellationToken ct)
    {
        // READ COMMITTED: no gap locks (concurrent groups insert next to each other without waiting), and the
        // look-ups see rows other writers committed meanwhile, as in PostgreSQL.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var windows = await WindowsAsync(conn, tx, plan.Rows, ct);
        var held = skipHolders ? await HoldersAsync(conn, tx, plan.Rows, locking: true, ct) : [];

        // A row is left out when its window does not exist (a granted coupon has none) or when its user holds a coupon.
        var rows = plan.Rows
            .Where(c => (c.Source.WindowIndex is not { } w || windows.Contains((c.CampaignId, w))) && !held.ContainsKey((c.CampaignId, c.UserId)))
            .ToList();
        var written = rows.Select(RowKey.Of).ToHashSet();

        // Rows without their window: Existing if the user holds a coupon anyway (as the PostgreSQL store says).
        var unwritten = plan.Unwritten(written).Where(c => !held.ContainsKey((c.CampaignId, c.UserId))).ToList();
        if (unwritten.Count > 0)
            foreach (var (key, coupon) in await HoldersAsync(conn, tx, unwritten, locking: true, ct)) held[key] = coupon;

        var outcomes = plan.Outcomes(written, held);
        if (rows.Count > 0)
        {
            await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
            cmd.Parameters.AddWithValue("@now", DateTime.UtcNow);
            var sql = new StringBuilder("INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, grant_no, issued_at, committed_at) VALUES ");
            // Each row has its own parameters; committed_at is the same for the whole group.
            var values = Values(cmd, rows,
                c => c.CampaignId, c => c.Sequence, c => c.UserId, c => c.Code, c => c.Source.WindowIndex, c => c.Source.GrantNo, c => ToDb(c.IssuedAt));
            sql.Append(values.Replace(")", ", @now)", StringComparison.Ordinal)).Append(";\n");

            // One round trip: the rows, the counters, then the issued events, all in this transaction.
            var counters = CommitPlan.Counters(outcomes);
            var n = 0;
            foreach (var change in counters)
            {
                var key = n.ToString(CultureInfo.InvariantCulture);
                if (change.WindowIndex is { } window)
                {
                    sql.Append(CultureInfo.InvariantCulture, $"UPDATE campaign_windows SET issued_count = issued_count + @n{key} WHERE campaign_id = @k{key} AND window_index = @w{key};\n");
                    cmd.Parameters.AddWithValue("@w" + key, window);
                }
                else
                {
                    sql.Append(CultureInfo.InvariantCulture, $"UPDATE campaigns SET issued_count = issued_count + @n{key} WHERE campaign_id = @k{key};\n");
                }
                cmd.Parameters.AddWithValue("@n" + key, change.Added);
                cmd.Parameters.AddWithValue("@k" + key, change.CampaignId);
                n++;
            }
            if (counters.Count > 0) AppendInsertEvents(cmd, sql, CommitPlan.IssuedEvents(outcomes, Truncate(time.GetUtcNow())));
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return outcomes;
    }

    /// <summary>The windows of the group's campaigns that exist (a plain read, as PostgreSQL's EXISTS check).</summary>
    private static async Task<HashSet<(long Campaign, int Window)>> WindowsAsync(MySqlConnection conn, MySqlTransaction tx, IReadOnlyList<IssuedCoupon> rows, CancellationToken ct)
    {
        var windows = new HashSet<(long, int)>();
        var campaigns = rows.Where(c => !c.Source.IsGrant).Select(c => c.CampaignId).Distinct().ToArray();
        if (campaigns.Length == 0) return windows;
        await using var r = await conn.ExecuteReaderAsync(Cmd(
            "SELECT campaign_id, window_index FROM campaign_windows WHERE campaign_id IN @campaigns", new { campaigns }, ct, tx));
        while (await r.ReadAsync(ct)) windows.Add((Long(r, 0), Int(r, 1)));
        return windows;
    }

    /// <summary>
    /// The stored coupons of the rows' users. Locking (a shared lock) waits for a writer that is inserting the same
    /// user's row and then sees it committed, as ON CONFLICT waits in PostgreSQL; shared, so two writers reading the
    /// same holders do not block each other.
    /// </summary>
    private static async Task<Dictionary<(long Campaign, string User), IssuedCoupon>> HoldersAsync(
        MySqlConnection conn, MySqlTransaction? tx, IReadOnlyList<IssuedCoupon> rows, bool locking, CancellationToken ct)
    {
        var held = new Dictionary<(long, string), IssuedCoupon>();
        var keys = rows.Select(c => (c.UserId, c.CampaignId)).Distinct().ToList();
        if (keys.Count == 0) return held;
        await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
        cmd.CommandText = $"SELECT {CouponColumns} FROM coupons WHERE (user_id, campaign_id) IN ({Values(cmd, keys, k => k.UserId, k => k.CampaignId)})" +
            (locking ? " LOCK IN SHARE MODE" : "");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var c = ReadCoupon(r);
            held[(c.CampaignId, c.UserId)] = c;
        }
        return held;
    }
}
