using System.Threading.RateLimiting;
using CouponLive.Diagnostics;
using CouponLive.Http;
using Microsoft.Extensions.Options;

namespace CouponLive.Limits;

/// <summary>
/// Flood limits: login and sign-up per client address (ASP.NET Core's rate limiter) and failed logins per
/// login id; issue requests per user, checked by the issue path itself so every transport shares it; issue
/// requests failing authentication per client address, checked by the bearer scheme's events;
/// password hashing bounded so logins cannot starve issuing.
/// </summary>
public static class LimitsSetup
{
    /// <summary>The rate limiter policy of the login and sign-up routes.</summary>
    public const string AuthPolicy = "auth";

    public static WebApplicationBuilder AddLimits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<RateLimitOptions>("RateLimits");
        services.AddSingleton<LoginFailureLimiter>();
        services.AddSingleton<IssueAuthFailureLimiter>();
        services.AddSingleton<PasswordCheckLimiter>();
        // Registered only when on: the issue path takes it if it is there.
        if (builder.Configuration.GetValue("RateLimits:Enabled", true))
        {
            services.AddSingleton(sp =>
            {
                var o = sp.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return new UserRateLimiter(o.IssuePerUserBurst, o.IssuePerUserPerSecond, sp.GetRequiredService<TimeProvider>());
            });
        }
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(AuthPolicy, http =>
            {
                var o = http.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                var address = http.Connection.RemoteIpAddress?.ToString() ?? "";
                return o.Enabled
                    ? RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = o.AuthPerAddressBurst,
                        TokensPerPeriod = 1,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1 / o.AuthPerAddressPerSecond),
                        QueueLimit = 0,
                        AutoReplenishment = false,
                    })
                    : RateLimitPartition.GetNoLimiter(address);
            });
            limiter.OnRejected = (rejected, _) =>
            {
                var http = rejected.HttpContext;
                http.RequestServices.GetRequiredService<CouponMetrics>().RateLimited.Add(1, CouponMetrics.Tag("limit", "auth_per_address"));
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                Problems.SetRetryAfter(http.Response, retryAfter);
                return new ValueTask(Problems.Of(429, ErrorCodes.AuthRateLimited, "Too many login or sign-up requests from this address; retry later.").ExecuteAsync(http));
            };
        });
        return builder;
    }

    public static WebApplication UseLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }
}
