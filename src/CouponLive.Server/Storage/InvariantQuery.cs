using System.Data;
using System.Data.Common;
using System.Globalization;
using CouponLive.Codes;
using Dapper;

namespace CouponLive.Storage;

/// <summary>
/// The invariant check of every store: the same SQL (the schemas name and shape these columns alike) in one
/// read transaction, so every count comes from one snapshot and a commit landing meanwhile cannot show up in
/// some counts and not in others.
/// </summary>
internal static class InvariantQuery
{
    public static async Task<InvariantReport> RunAsync(DbConnection conn, long campaignId, IsolationLevel snapshot, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(snapshot, ct);
        CommandDefinition Sql(string text) => new(text, new { campaignId }, tx, cancellationToken: ct);

        // Numbers are read as each database gives them (int, bigint, decimal) and converted here: no CAST target
        // type is spelled the same in PostgreSQL, SQLite and MySQL.
        async Task<List<long[]>> NumbersAsync(string text)
        {
            await using var reader = await conn.ExecuteReaderAsync(Sql(text));
            var rows = new List<long[]>();
            while (await reader.ReadAsync(ct))
            {
                var row = new long[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = Convert.ToInt64(reader.GetValue(i), CultureInfo.InvariantCulture);
                rows.Add(row);
            }
            return rows;
        }

        var campaign = (await NumbersAsync("SELECT total_quantity, issued_count FROM campaigns WHERE campaign_id = @campaignId")).Single();
        var rows = (await NumbersAsync(
            "SELECT COUNT(*), COUNT(DISTINCT user_id), COUNT(DISTINCT code) FROM coupons WHERE campaign_id = @campaignId")).Single();
        var codes = await conn.QueryAsync<string>(Sql("SELECT code FROM coupons WHERE campaign_id = @campaignId"));
        var outside = (await NumbersAsync(
            """
            SELECT COUNT(*) FROM coupons k LEFT JOIN campaign_windows w
              ON w.campaign_id = k.campaign_id AND w.window_index = k.window_index
            WHERE k.campaign_id = @campaignId AND k.grant_no IS NULL
              AND (w.campaign_id IS NULL OR k.issued_at < w.starts_at OR k.issued_at >= w.ends_at)
            """)).Single()[0];
        var windows = (await NumbersAsync(
            """
            SELECT COALESCE(w.quota, -1), w.issued_count,
                   (SELECT COUNT(*) FROM coupons k WHERE k.campaign_id = w.campaign_id AND k.window_index = w.window_index)
            FROM campaign_windows w WHERE w.campaign_id = @campaignId
            """)).Select(w => (Quota: w[0], Counter: w[1], Rows: w[2])).ToList();
        await tx.CommitAsync(ct);

        return new InvariantReport(
            campaignId, (int)campaign[0], (int)campaign[1], (int)rows[0], (int)rows[1], (int)rows[2],
            codes.Count(code => !CouponCodeCodec.HasValidCheck(code) || code.Length != CouponCodeCodec.Length),
            (int)outside,
            windows.Count(w => w.Quota >= 0 && w.Rows > w.Quota),
            windows.Count(w => w.Counter != w.Rows));
    }
}
