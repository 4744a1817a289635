using CouponLive.Issuance.Redis;

namespace CouponLive.Issuance;

/// <summary>
/// The issue path: an admission gate (in process, or in Redis for many processes), the group-commit
/// writer and, where admissions outlive their process (Redis), the outbox reconciler and the failover watch.
/// </summary>
public static class IssuanceSetup
{
    public static WebApplicationBuilder AddIssuance(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var settings = ServerSettings.Of(builder);
        services.AddValidatedOptions<IssuanceOptions>("Issuance");
        services.AddValidatedOptions<BreakerOptions>("Breakers");
        services.AddSingleton<DependencyBreakers>();
        if (settings.IsProduction)
        {
            services.AddValidatedOptions<ReconcilerOptions>("Reconciler");
            services.AddValidatedOptions<RedisGateOptions>("Redis");
            services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(_ => RedisConnection.Connect(settings.RedisConnection!));
            services.AddSingleton<RedisEvictionPolicyCheck>();
            services.AddSingleton<RedisKeys>();
            services.AddSingleton<RedisScripts>();
            services.AddSingleton<RedisAdmissionGate>();
            services.AddSingleton<IAdmissionGate>(sp => sp.GetRequiredService<RedisAdmissionGate>());
            services.AddSingleton<IAdmissionOutbox>(sp => sp.GetRequiredService<RedisAdmissionGate>());
            services.AddSingleton<OutboxReconciler>();
            services.AddHostedService(sp => sp.GetRequiredService<OutboxReconciler>());
            services.AddHostedService<RedisFailoverWatch>();
            services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [Lifecycle.LifecycleSetup.DependencyTag]);
        }
        else
        {
            services.AddSingleton<IAdmissionGate, InProcessAdmissionGate>();
        }
        services.AddSingleton<CommittedCoupons>();
        services.AddSingleton<GateRepair>();
        services.AddSingleton<GateLoader>();
        services.AddSingleton<IssueWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<IssueWriter>());
        services.AddSingleton<IssuanceService>();
        services.AddSingleton<EndedCampaignSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<EndedCampaignSweeper>());
        return builder;
    }
}
