namespace CouponLive.Dashboard;

/// <summary>Where every process's per-second figures meet: in memory (embedded) or in Redis (production).</summary>
public interface ILiveStatsStore
{
    Task PublishAsync(IReadOnlyList<(long Campaign, long Second, SecondCounts Counts)> seconds);

    /// <summary>The figures of seconds [from, to], missing seconds left out.</summary>
    Task<IReadOnlyList<(long Second, SecondCounts Counts)>> ReadAsync(long campaignId, long fromSecond, long toSecond);
}
