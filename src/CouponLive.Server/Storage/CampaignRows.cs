using System.Data.Common;
using System.Globalization;
using CouponLive.Campaigns;

namespace CouponLive.Storage;

/// <summary>
/// Reads a campaign and its windows the same way in PostgreSQL and MySQL (the same columns; values converted
/// from what each driver returns, times by the store's <c>time</c> reader); inside a transaction its row stays
/// locked (FOR UPDATE) until the transaction ends. The counts are the committed ones, read with it.
/// </summary>
internal static class CampaignRows
{
    private const string Columns =
        "name, total_quantity, coupon_valid_until, benefit_type, benefit_value, created_at, version, paused_at, cancelled_at, issued_revoked, issued_count";

    public static async Task<(StoredCampaign Campaign, CampaignCounts Counts)?> ReadAsync(
        DbConnection conn, DbTransaction? tx, long campaignId, Func<DbDataReader, int, DateTimeOffset> time, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText =
            $"""
            SELECT {Columns} FROM campaigns WHERE campaign_id = @id{(tx is null ? "" : " FOR UPDATE")};
            SELECT starts_at, ends_at, quota, issued_count FROM campaign_windows WHERE campaign_id = @id ORDER BY window_index;
            """;
        var id = cmd.CreateParameter();
        id.ParameterName = "@id";
        id.Value = campaignId;
        cmd.Parameters.Add(id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        DateTimeOffset? Nullable(int column) => r.IsDBNull(column) ? null : time(r, column);
        var name = r.GetString(0);
        var total = Int(r, 1);
        var validUntil = Nullable(2);
        var benefit = r.IsDBNull(3) ? null : new Benefit(r.GetString(3), Convert.ToDecimal(r.GetValue(4), CultureInfo.InvariantCulture));
        var createdAt = time(r, 5);
        var version = Int(r, 6);
        var pausedAt = Nullable(7);
        var cancelledAt = Nullable(8);
        var revoked = Convert.ToBoolean(r.GetValue(9), CultureInfo.InvariantCulture);
        var issued = Int(r, 10);

        await r.NextResultAsync(ct);
        var windows = new List<CampaignWindow>();
        var perWindow = new List<int>();
        while (await r.ReadAsync(ct))
        {
            windows.Add(new CampaignWindow(time(r, 0), time(r, 1), r.IsDBNull(2) ? null : Int(r, 2)));
            perWindow.Add(Int(r, 3));
        }
        return (new StoredCampaign(campaignId, name, total, windows, validUntil, benefit, createdAt, version, pausedAt, cancelledAt, revoked),
            new CampaignCounts(issued, perWindow));
    }

    private static int Int(DbDataReader r, int column) => Convert.ToInt32(r.GetValue(column), CultureInfo.InvariantCulture);
}
