using System.Data;
using System.Data.Common;
using CouponLive.Codes;
using Dapper;

namespace CouponLive.Storage;

/// <summary>
/// The invariant check of both stores: the same SQL (both schemas name and shape these columns alike) in one
/// read transaction, so every count comes from one snapshot and a commit landing meanwhile cannot show up in
/// some counts and not in others.
/// </summary>
internal static class InvariantQuery
{
    public static async Task<InvariantReport> RunAsync(DbConnection conn, long campaignId, IsolationLevel snapshot, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(snapshot, ct);
        CommandDefinition Sql(string text) => new(text, new { campaignId }, tx, cancellationToken: ct);

        var campaign = await conn.QuerySingleAsync<(long Total, long Counter)>(Sql(
            "SELECT CAST(total_quantity AS bigint), CAST(issued_count AS bigint) FROM campaigns WHERE campaign_id = @campaignId"));
        var rows = await conn.QuerySingleAsync<(long Rows, long Users, long Codes)>(Sql(
            "SELECT COUNT(*), COUNT(DISTINCT user_id), COUNT(DISTINCT code) FROM coupons WHERE campaign_id = @campaignId"));
        var codes = await conn.QueryAsync<string>(Sql("SELECT code FROM coupons WHERE campaign_id = @campaignId"));
        var outside = await conn.ExecuteScalarAsync<long>(Sql(
            """
            SELECT COUNT(*) FROM coupons k LEFT JOIN campaign_windows w
              ON w.campaign_id = k.campaign_id AND w.window_index = k.window_index
            WHERE k.campaign_id = @campaignId AND k.grant_no IS NULL
              AND (w.campaign_id IS NULL OR k.issued_at < w.starts_at OR k.issued_at >= w.ends_at)
            """));
        var windows = (await conn.QueryAsync<(long Quota, long Counter, long Rows)>(Sql(
            """
            SELECT CAST(COALESCE(w.quota, -1) AS bigint), CAST(w.issued_count AS bigint),
                   (SELECT COUNT(*) FROM coupons k WHERE k.campaign_id = w.campaign_id AND k.window_index = w.window_index)
            FROM campaign_windows w WHERE w.campaign_id = @campaignId
            """))).ToList();
        await tx.CommitAsync(ct);

        return new InvariantReport(
            campaignId, (int)campaign.Total, (int)campaign.Counter, (int)rows.Rows, (int)rows.Users, (int)rows.Codes,
            codes.Count(code => !CouponCodeCodec.HasValidCheck(code) || code.Length != CouponCodeCodec.Length),
            (int)outside,
            windows.Count(w => w.Quota >= 0 && w.Rows > w.Quota),
            windows.Count(w => w.Counter != w.Rows));
    }
}
