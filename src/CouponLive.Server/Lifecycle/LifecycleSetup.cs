using Microsoft.Extensions.Options;

namespace CouponLive.Lifecycle;

/// <summary>
/// The process's life as a load balancer sees it: startup and readiness from <see cref="ProcessState"/>, and a stop
/// that drains (<see cref="DrainOnStop"/>) inside the host's shutdown timeout.
/// </summary>
public static class LifecycleSetup
{
    public const string StartupTag = "startup";
    public const string ReadyTag = "ready";
    public const string DependencyTag = "dependency";

    public static WebApplicationBuilder AddLifecycle(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<ShutdownOptions>("Shutdown");
        builder.Services.AddSingleton<ProcessState>();
        builder.Services.AddHostedService<DrainOnStop>();
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.DrainDelay + shutdown.Value.Timeout);
        builder.Services.AddHealthChecks()
            .AddCheck<StartupHealthCheck>("startup", tags: [StartupTag])
            .AddCheck<ProcessHealthCheck>("process", tags: [ReadyTag]);
        return builder;
    }
}
