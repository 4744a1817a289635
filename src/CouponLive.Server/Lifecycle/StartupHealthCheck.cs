using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponLive.Lifecycle;

/// <summary>Startup: initialization (schema, code key, admin account) is done and every background service has started.</summary>
public sealed class StartupHealthCheck(ProcessState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(state.IsStarted ? HealthCheckResult.Healthy("started") : HealthCheckResult.Unhealthy("starting"));
}
