using CouponLive.Diagnostics;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Auth;

/// <summary>
/// Authentication: a JWT bearer validated from the token alone, never a users-table lookup on the issue
/// path (I7); a cache of validated tokens; the built-in accounts (sign-up, login, the admin).
/// </summary>
public static class AuthSetup
{
    public static WebApplicationBuilder AddAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        ServerKeys.Of(builder);
        services.AddValidatedOptions<AuthOptions>("Auth");
        services.AddValidatedOptions<AdminOptions>("Admin");
        services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<AdminBootstrap>();
        services.AddSingleton(sp => TokenService.ValidationParameters(sp.GetRequiredService<ServerKeys>(), sp.GetRequiredService<IOptions<AuthOptions>>().Value));
        services.AddSingleton(sp => new ValidatedTokenCache(
            sp.GetRequiredService<IOptions<AuthOptions>>().Value.TokenCacheSize, sp.GetRequiredService<TokenValidationParameters>().ClockSkew));

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenValidationParameters, ValidatedTokenCache>((o, validation, cache) =>
            {
                o.MapInboundClaims = false;
                o.SaveToken = false;
                o.TokenValidationParameters = validation;
                o.Events = Events(cache);
            });
        services.AddAuthorizationBuilder().AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin));
        return builder;
    }

    private static JwtBearerEvents Events(ValidatedTokenCache cache) => new()
    {
        OnMessageReceived = cache.OnMessageReceived,
        OnTokenValidated = ctx =>
        {
            var violation = !Principals.IsAcceptableUserId(ctx.Principal?.FindFirst("sub")?.Value)
                ? "The token's sub is missing or not a usable user id."
                : ctx.SecurityToken is JsonWebToken jwt ? TokenRules.Violation(jwt) : "Not a JSON web token.";
            if (violation is null) cache.Remember(ctx);
            else ctx.Fail(violation);
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
}
