namespace CouponLive.Dashboard;

public static class DashboardSetup
{
    /// <summary>Live figures: counted per process, summed in memory (embedded) or in Redis (production, every process).</summary>
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<LiveStats>();
        if (ServerSettings.Of(builder).IsProduction) services.AddSingleton<ILiveStatsStore, RedisLiveStatsStore>();
        else services.AddSingleton<ILiveStatsStore, InMemoryLiveStatsStore>();
        services.AddHostedService<LiveStatsPublisher>();
        services.AddSingleton<LiveViewService>();
        return builder;
    }
}
