using Microsoft.Extensions.Options;

namespace CouponLive.Lifecycle;

/// <summary>
/// The first step of a stop, before the web server stops accepting: the process turns unready at once, then keeps
/// serving for <see cref="ShutdownOptions.DrainDelay"/> while the load balancer moves away. After it, the host stops
/// the web server (which finishes in-flight requests; every admitted issue gets its commit and its answer, since
/// the writer stops only after it), then the writer and the event relay, which drain.
/// </summary>
public sealed partial class DrainOnStop(
    ProcessState state, IHostApplicationLifetime lifetime, IOptions<ShutdownOptions> options, TimeProvider time, ILogger<DrainOnStop> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        state.Started();
        // Unready the moment the stop begins, and the live streams end right after (ProcessState.Draining).
        lifetime.ApplicationStopping.Register(state.Draining);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.Draining();
        var delay = options.Value.DrainDelay;
        LogDraining(delay.TotalSeconds);
        if (delay <= TimeSpan.Zero) return;
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out first: stop now.
        }
        LogDrained();
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: unready now, serving {DrainSeconds} s more while the load balancer moves away")]
    private partial void LogDraining(double drainSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: drain delay over; no new connections, finishing in-flight requests, then the writer and the event relay")]
    private partial void LogDrained();
}
