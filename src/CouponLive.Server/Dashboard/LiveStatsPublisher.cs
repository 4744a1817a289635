namespace CouponLive.Dashboard;

/// <summary>Hands this process's finished seconds to the shared store, once a second.</summary>
public sealed partial class LiveStatsPublisher(LiveStats stats, ILiveStatsStore store, TimeProvider time, ILogger<LiveStatsPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var done = stats.TakeCompleted();
            if (done.Count == 0) continue;
            try
            {
                await store.PublishAsync(done);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPublishFailed(ex.Message); // live figures are best effort: a lost second is not a lost coupon
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing live figures failed: {Reason}")]
    private partial void LogPublishFailed(string reason);
}
