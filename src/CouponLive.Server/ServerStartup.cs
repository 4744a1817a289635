using CouponLive.Auth;
using CouponLive.Codes;
using CouponLive.Issuance.Redis;
using CouponLive.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace CouponLive;

public static partial class ServerStartup
{
    /// <summary>Checks Redis's eviction policy (production mode), creates or migrates the schema, checks the code key and bootstraps the admin, before serving.</summary>
    public static async Task InitializeAsync(this WebApplication app)
    {
        var services = app.Services;
        if (services.GetService<RedisEvictionPolicyCheck>() is { } evictionPolicy) await evictionPolicy.CheckAtStartAsync();
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
