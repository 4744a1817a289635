using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CouponLive.Storage;

public sealed class StoreHealthCheck(ICouponStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            return await store.IsHealthyAsync(ct) ? HealthCheckResult.Healthy("store") : HealthCheckResult.Unhealthy("store");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("store unreachable", ex);
        }
    }
}
