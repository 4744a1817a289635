namespace CouponLive.Campaigns;

/// <summary>
/// Keeps this process's campaign cache in step with changes other processes make: every half second, one
/// query for the versions of the cached campaigns, and a re-read of those that changed.
/// </summary>
public sealed partial class CampaignCatalogRefresher(CampaignCatalog catalog, TimeProvider time, ILogger<CampaignCatalogRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await catalog.RefreshAsync(stoppingToken);
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is down: the cache stays as it is (the gate holds the rules that matter); said once per outage.
                if (!failing) LogRefreshFailed(ex.Message);
                failing = true;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing cached campaigns failed: {Reason}")]
    private partial void LogRefreshFailed(string reason);
}
