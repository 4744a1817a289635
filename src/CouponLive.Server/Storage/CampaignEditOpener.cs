using System.Data.Common;

namespace CouponLive.Storage;

/// <summary>How both stores open an <see cref="ICampaignEdit"/>: a transaction, the campaign read (and locked) in it, and cleanup on every other way out.</summary>
internal static class CampaignEditOpener
{
    public static async Task<ICampaignEdit?> OpenAsync<TTransaction>(
        DbConnection conn,
        Func<Task<TTransaction>> begin,
        Func<TTransaction, Task<(StoredCampaign Campaign, CampaignCounts Counts)?>> read,
        Func<TTransaction, StoredCampaign, CampaignCounts, ICampaignEdit> edit) where TTransaction : DbTransaction
    {
        TTransaction? tx = null;
        try
        {
            tx = await begin();
            if (await read(tx) is { } found) return edit(tx, found.Campaign, found.Counts);
        }
        catch
        {
            if (tx is not null) await tx.DisposeAsync();
            await conn.DisposeAsync();
            throw;
        }
        await tx.DisposeAsync();
        await conn.DisposeAsync();
        return null;
    }
}
