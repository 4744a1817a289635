using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponLive.Lifecycle;

/// <summary>Readiness: this process can take new requests (started, not draining). Shared dependencies are not asked.</summary>
public sealed class ProcessHealthCheck(ProcessState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(state.IsReady ? HealthCheckResult.Healthy("serving")
            : state.IsDraining ? HealthCheckResult.Unhealthy("draining: stopping, send new requests elsewhere")
            : HealthCheckResult.Unhealthy("starting"));
}
