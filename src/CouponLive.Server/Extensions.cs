using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Dashboard;
using CouponLive.Diagnostics;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Issuance.Redis;
using CouponLive.Rpc;
using CouponLive.Storage;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive;

public static partial class Extensions
{
    public const int MaxRequestBodyBytes = 256 * 1024;

    public static WebApplicationBuilder AddCouponLive(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        var settings = ServerSettings.Resolve(config);
        var keys = ServerKeys.Resolve(config, builder.Environment, settings);

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });

        services.AddSingleton(settings);
        services.AddSingleton(keys);
        services.TryAddTimeProvider();
        services.Configure<AuthOptions>(config.GetSection("Auth"));
        services.Configure<AdminOptions>(config.GetSection("Admin"));
        services.Configure<IssuanceOptions>(config.GetSection("Issuance"));

        // HTTP: source-generated JSON, ProblemDetails with a stable code for every error.
        services.Configure<JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Default));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = AddCode);
        services.AddOpenApi();
        builder.AddDiagnostics();
        var health = services.AddHealthChecks().AddCheck<StoreHealthCheck>(settings.IsProduction ? "postgres" : "sqlite", tags: ["ready"]);

        // Auth: JWT bearer validated from the token alone; no users-table lookup on the issue path (I7).
        services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<AdminBootstrap>();
        var authOptions = config.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        var validation = TokenService.ValidationParameters(keys, authOptions);
        var tokenCache = new ValidatedTokenCache(authOptions.TokenCacheSize, validation.ClockSkew);
        services.AddSingleton(tokenCache); // disposed with the container
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.SaveToken = false;
            o.TokenValidationParameters = validation;
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = tokenCache.OnMessageReceived,
                OnTokenValidated = ctx =>
                {
                    if (Principals.IsAcceptableUserId(ctx.Principal?.FindFirst("sub")?.Value)) tokenCache.Remember(ctx);
                    else ctx.Fail("The token's sub is missing or not a usable user id.");
                    return Task.CompletedTask;
                },
                OnChallenge = ctx =>
                {
                    var code = ctx.AuthenticateFailure switch
                    {
                        null => ErrorCodes.Unauthorized,
                        SecurityTokenExpiredException => ErrorCodes.TokenExpired,
                        _ => ErrorCodes.InvalidToken,
                    };
                    ctx.HttpContext.Items[Problems.CodeItem] = code;
                    ctx.HttpContext.RequestServices.GetRequiredService<CouponMetrics>().AuthFailures.Add(1, CouponMetrics.Tag("reason", code));
                    // An issue request turned away for its token shows in that campaign's live view.
                    if (ctx.HttpContext.GetEndpoint()?.Metadata.GetMetadata<IssueEndpoint>() is not null)
                        ctx.HttpContext.RequestServices.GetRequiredService<IssuanceService>().RecordRejectedToken(ctx.HttpContext.GetRouteValue("id") as string);
                    return Task.CompletedTask;
                },
                OnForbidden = ctx =>
                {
                    ctx.HttpContext.RequestServices.GetRequiredService<CouponMetrics>().AuthFailures.Add(1, CouponMetrics.Tag("reason", ErrorCodes.Forbidden));
                    return Task.CompletedTask;
                },
            };
        });
        services.AddAuthorizationBuilder().AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin));

        // Issuance: campaign cache, admission gate, group-commit writer, durable store, outbox reconciler.
        if (settings.IsProduction)
        {
            services.AddSingleton<ICouponStore>(new PostgresCouponStore(settings.PostgresConnection!));
            services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(_ => RedisConnection.Connect(settings.RedisConnection!));
            services.AddSingleton(config.GetSection("Redis").Get<RedisGateOptions>() ?? new RedisGateOptions());
            services.AddSingleton<RedisKeys>();
            services.AddSingleton<RedisScripts>();
            services.AddSingleton<RedisAdmissionGate>();
            services.AddSingleton<IAdmissionGate>(sp => sp.GetRequiredService<RedisAdmissionGate>());
            services.AddHostedService<RedisFailoverWatch>();
            services.AddSingleton<ILiveStatsStore, RedisLiveStatsStore>();
            health.AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        }
        else
        {
            services.AddSingleton<ICouponStore>(new SqliteCouponStore(settings.DatabasePath));
            services.AddSingleton<IAdmissionGate, InProcessAdmissionGate>();
            services.AddSingleton<ILiveStatsStore, InMemoryLiveStatsStore>();
        }
        services.AddSingleton<LiveStats>();
        services.AddHostedService<LiveStatsPublisher>();
        services.Configure<ReconcilerOptions>(config.GetSection("Reconciler"));
        services.AddSingleton<OutboxReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxReconciler>());
        services.AddSingleton<CampaignCatalog>();
        services.AddSingleton<CampaignService>();
        services.AddSingleton<LiveViewService>();
        services.AddSingleton(new CouponCodeCodec(keys.CodeKey));
        services.AddSingleton<IssueWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<IssueWriter>());
        services.AddSingleton<IssuanceService>();

        // RPC: gRPC and Connect over the same services (Rpc/), gRPC on its own HTTP/2 port.
        builder.AddRpc();
        return builder;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }

    private static void AddCode(ProblemDetailsContext context)
    {
        var extensions = context.ProblemDetails.Extensions;
        if (!extensions.ContainsKey("code"))
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            extensions["code"] = context.HttpContext.Items[Problems.CodeItem] as string ?? Problems.DefaultCode(status);
        }
        extensions["traceId"] = context.HttpContext.TraceIdentifier;
    }

    /// <summary>Creates or migrates the schema, checks the code key and bootstraps the admin, before serving.</summary>
    public static async Task InitializeCouponLiveAsync(this WebApplication app)
    {
        var services = app.Services;
        var store = services.GetRequiredService<ICouponStore>();
        await store.InitializeAsync(CancellationToken.None);

        // Codes made with another key could collide with these: refuse to mix keys in one database.
        var fingerprint = services.GetRequiredService<CouponCodeCodec>().KeyFingerprint;
        var stored = await store.GetOrAddMetaAsync("code_key_fingerprint", fingerprint, CancellationToken.None);
        if (stored != fingerprint)
            throw new InvalidOperationException("Codes:Key differs from the key this database's coupon codes were made with; restore the original key.");

        await services.GetRequiredService<AdminBootstrap>().EnsureAdminAsync(CancellationToken.None);
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(app));
    }

    public static WebApplication UseCouponLive(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapHealthApi(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") });
        app.MapMetrics();
        return app;
    }

    private static void PrintBanner(WebApplication app)
    {
        var settings = app.Services.GetRequiredService<ServerSettings>();
        var admin = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value;
        var hint = app.Services.GetRequiredService<AdminBootstrap>().Hint;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CouponLive");
        LogBanner(logger, string.Join(", ", addresses), settings.Mode, settings.DataDirectory, admin.LoginId, hint ?? "");
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "CouponLive is listening on {Addresses} in {Mode} mode (data: {DataDirectory}). Admin: login '{AdminLogin}', {AdminHint}; get a token with POST /api/v1/auth/token")]
    private static partial void LogBanner(ILogger logger, string addresses, string mode, string dataDirectory, string adminLogin, string adminHint);
}

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
