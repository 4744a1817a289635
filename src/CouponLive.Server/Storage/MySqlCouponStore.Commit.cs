using System.Data;
using System.Globalization;
using System.Text;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>
/// The group commit in MySQL: one multi-row INSERT and the counter UPDATEs in one transaction. MySQL has no
/// ON CONFLICT DO NOTHING that skips only unique clashes (INSERT IGNORE also skips CHECK violations, so it would
/// let over-issue through), so the skipping is done by reading the holders first.
/// </summary>
public sealed partial class MySqlCouponStore
{
    public async Task<IReadOnlyList<CommitOutcome>> CommitAsync(IReadOnlyList<IssuedCoupon> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        await using var conn = await OpenAsync(ct);
        try
        {
            // The gate admits each user once, so a sale's groups almost never clash with stored rows: insert
            // without looking for holders first. A clash (a retried or reconciled admission) or any other refusal
            // rolls back the group; it is redone skipping holders, then row by row if still refused.
            return await RetryDeadlocksAsync(() => CommitGroupAsync(conn, batch, skipHolders: false, ct));
        }
        catch (MySqlException ex) when (IsConstraintViolation(ex))
        {
        }
        try
        {
            return await RetryDeadlocksAsync(() => CommitGroupAsync(conn, batch, skipHolders: true, ct));
        }
        catch (MySqlException ex) when (IsConstraintViolation(ex))
        {
            // A counter CHECK (over-issue), a code or sequence clash with another user's row, or a holder's row that
            // committed after the look-up rolled back the whole group: commit the rows one by one so the others
            // still land and only the offending ones are refused.
            var outcomes = new CommitOutcome[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                var row = batch[i];
                try
                {
                    outcomes[i] = (await RetryDeadlocksAsync(() => CommitGroupAsync(conn, [row], skipHolders: true, ct)))[0];
                }
                catch (MySqlException single) when (IsConstraintViolation(single))
                {
                    // The user's row may have landed since the look-up (then it is theirs); otherwise the row is refused.
                    var held = await HoldersAsync(conn, null, [row], locking: false, ct);
                    outcomes[i] = held.TryGetValue((row.CampaignId, row.UserId), out var existing)
                        ? new CommitOutcome(CommitStatus.Existing, existing)
                        : new CommitOutcome(CommitStatus.Rejected, null);
                }
            }
            return outcomes;
        }
    }

    // A refusal by the data: a unique clash, a CHECK (over-issue), a value the column cannot hold. Anything else
    // (connection lost, shutdown, lock wait timeout) propagates: nothing was committed and the caller retries.
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

    private static async Task<CommitOutcome[]> CommitGroupAsync(MySqlConnection conn, IReadOnlyList<IssuedCoupon> batch, bool skipHolders, CancellationToken ct)
    {
        // READ COMMITTED: no gap locks (concurrent groups insert next to each other without waiting), and the
        // look-ups see rows other writers committed meanwhile, as in PostgreSQL.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        var windows = await WindowsAsync(conn, tx, batch, ct);
        var held = skipHolders ? await HoldersAsync(conn, tx, batch, locking: true, ct) : [];

        // Rows go in (campaign, sequence) order, so two writers inserting overlapping keys wait on each other in
        // the same order. OrderBy is stable: of the very same row given twice, the first occurrence is written.
        // A row is left out when its window does not exist (a granted coupon, negative window, has none), when its
        // user holds a coupon, or when its user already has a row earlier in this group.
        var written = new Dictionary<(long Campaign, string User), int>();
        foreach (var i in Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].CampaignId).ThenBy(i => batch[i].Sequence))
        {
            var c = batch[i];
            if (c.WindowIndex >= 0 && !windows.Contains((c.CampaignId, c.WindowIndex))) continue;
            if (held.ContainsKey((c.CampaignId, c.UserId))) continue;
            written.TryAdd((c.CampaignId, c.UserId), i);
        }

        var outcomes = new CommitOutcome[batch.Count];
        var rejected = new List<IssuedCoupon>();
        for (var i = 0; i < batch.Count; i++)
        {
            var c = batch[i];
            var key = (c.CampaignId, c.UserId);
            if (written.TryGetValue(key, out var w))
                outcomes[i] = new CommitOutcome(w == i ? CommitStatus.Inserted : CommitStatus.Existing, batch[w]);
            else if (held.TryGetValue(key, out var existing))
                outcomes[i] = new CommitOutcome(CommitStatus.Existing, existing);
            else
                rejected.Add(c);
        }
        if (rejected.Count > 0 && !skipHolders)
        {
            // Rows without their window: Existing if the user holds a coupon anyway (as the PostgreSQL store says).
            held = await HoldersAsync(conn, tx, rejected, locking: true, ct);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Coupon is not null) continue;
            outcomes[i] = held.TryGetValue((batch[i].CampaignId, batch[i].UserId), out var existing)
                ? new CommitOutcome(CommitStatus.Existing, existing)
                : new CommitOutcome(CommitStatus.Rejected, null);
        }

        if (written.Count > 0)
        {
            var rows = written.Values.Select(i => batch[i]).OrderBy(c => c.CampaignId).ThenBy(c => c.Sequence).ToList();
            await using var cmd = new MySqlCommand { Connection = conn, Transaction = tx };
            cmd.Parameters.AddWithValue("@now", DateTime.UtcNow);
            var sql = new StringBuilder("INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, grant_no, issued_at, committed_at) VALUES ");
            // A negative window is the grant that issued the coupon: stored as grant_no, with no window. Each row
            // has its own parameters; committed_at is the same for the whole group.
            var values = Values(cmd, rows,
                c => c.CampaignId, c => c.Sequence, c => c.UserId, c => c.Code,
                c => c.WindowIndex >= 0 ? c.WindowIndex : null, c => c.WindowIndex < 0 ? -c.WindowIndex : null, c => ToDb(c.IssuedAt));
            sql.Append(values.Replace(")", ", @now)", StringComparison.Ordinal)).Append(";\n");

            // The counters move in the same transaction; their CHECK constraints refuse over-issue (I1). Rows are
            // locked in ascending (campaign, window) order, the same in every process, so concurrent groups queue on
            // the counter rows instead of deadlocking. A granted coupon counts for the campaign only. One round trip.
            var n = 0;
            foreach (var campaign in rows.GroupBy(c => c.CampaignId))
            {
                sql.Append(CultureInfo.InvariantCulture, $"UPDATE campaigns SET issued_count = issued_count + @n{n} WHERE campaign_id = @k{n};\n");
                cmd.Parameters.AddWithValue($"@n{n}", campaign.Count());
                cmd.Parameters.AddWithValue($"@k{n}", campaign.Key);
                n++;
                foreach (var window in campaign.Where(c => c.WindowIndex >= 0).GroupBy(c => c.WindowIndex).OrderBy(g => g.Key))
                {
                    sql.Append(CultureInfo.InvariantCulture,
                        $"UPDATE campaign_windows SET issued_count = issued_count + @n{n} WHERE campaign_id = @k{n} AND window_index = @w{n};\n");
                    cmd.Parameters.AddWithValue($"@n{n}", window.Count());
                    cmd.Parameters.AddWithValue($"@k{n}", campaign.Key);
                    cmd.Parameters.AddWithValue($"@w{n}", window.Key);
                    n++;
                }
            }
            cmd.CommandText = sql.ToString();
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return outcomes;
    }

    /// <summary>The windows of the group's campaigns that exist (a plain read, as PostgreSQL's EXISTS check).</summary>
    private static async Task<HashSet<(long Campaign, int Window)>> WindowsAsync(MySqlConnection conn, MySqlTransaction tx, IReadOnlyList<IssuedCoupon> batch, CancellationToken ct)
    {
        var windows = new HashSet<(long, int)>();
        var campaigns = batch.Where(c => c.WindowIndex >= 0).Select(c => c.CampaignId).Distinct().ToArray();
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
