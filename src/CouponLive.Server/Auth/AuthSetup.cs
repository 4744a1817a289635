using CouponLive.Diagnostics;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Limits;
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
            sp.GetRequiredService<IOptions<AuthOptions>>().Value.TokenCacheSize, sp.GetRequiredService<TokenValidationParameters>().ClockSkew,
            sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();

        // The service's own HS256 tokens; and, when Auth:Issuers names identity providers, a scheme per provider
        // and a default scheme that picks one by the token's iss (a remembered token skips the choice).
        var issuers = builder.Configuration.GetSection("Auth:Issuers").Get<List<TrustedIssuerOptions>>() ?? [];
        var authentication = services.AddAuthentication(issuers.Count == 0 ? JwtBearerDefaults.AuthenticationScheme : TrustedIssuers.SelectorScheme)
            .AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenValidationParameters, ValidatedTokenCache, IssueAuthFailureLimiter>((o, validation, cache, limiter) =>
            {
                o.MapInboundClaims = false;
                o.SaveToken = false;
                o.TokenValidationParameters = validation;
                o.Events = Events(cache, limiter, null);
            });
        if (issuers.Count > 0)
        {
            var schemeByIssuer = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < issuers.Count; i++)
            {
                var (issuer, scheme) = (issuers[i], TrustedIssuers.SchemeName(i));
                if (issuer.ExpectedIssuer is { } iss) schemeByIssuer.TryAdd(iss, scheme);
                authentication.AddJwtBearer(scheme, _ => { });
                services.AddOptions<JwtBearerOptions>(scheme)
                    .Configure<TokenValidationParameters, ValidatedTokenCache, IssueAuthFailureLimiter>((o, validation, cache, limiter) =>
                    {
                        TrustedIssuers.Configure(o, issuer, validation.ClockSkew);
                        o.Events = Events(cache, limiter, issuer);
                    });
            }
            authentication.AddPolicyScheme(TrustedIssuers.SelectorScheme, "Bearer token of the service or a trusted identity provider", o =>
                o.ForwardDefaultSelector = context =>
                    TrustedIssuers.Select(context, context.RequestServices.GetRequiredService<ValidatedTokenCache>(), schemeByIssuer));
        }
        services.AddAuthorizationBuilder().AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin));
        return builder;
    }

    /// <summary>The events of a bearer scheme: the service's own (issuer null) or a trusted identity provider's.</summary>
    private static JwtBearerEvents Events(ValidatedTokenCache cache, IssueAuthFailureLimiter limiter, TrustedIssuerOptions? issuer) => new()
    {
        OnMessageReceived = ctx =>
        {
            // A remembered token always goes through; past that, an address flooding the issue routes with bad
            // tokens is refused before this one's signature is checked.
            var cached = cache.OnMessageReceived(ctx);
            limiter.RefuseIfBlocked(ctx);
            return cached;
        },
        OnTokenValidated = ctx =>
        {
            // A provider's user and role claims become the service's sub and role, as its own tokens carry them.
            if (issuer is not null && ctx.Principal is not null) ctx.Principal = TrustedIssuers.Normalize(ctx.Principal, issuer, ctx.Scheme.Name);
            var violation = !Principals.IsAcceptableUserId(ctx.Principal?.FindFirst("sub")?.Value)
                ? "The token's sub is missing or not a usable user id."
                : ctx.SecurityToken is JsonWebToken jwt ? TokenRules.Violation(jwt) : "Not a JSON web token.";
            if (violation is null) cache.Remember(ctx);
            else ctx.Fail(violation);
            return Task.CompletedTask;
        },
        OnChallenge = ctx =>
        {
            var http = ctx.HttpContext;
            var issue = http.GetEndpoint()?.Metadata.GetMetadata<IssueEndpoint>() is not null;
            // An issue request turned away for its token (or by its address's limit on those) shows in that campaign's live view.
            var limited = issue && limiter.Refused(http, ctx.AuthenticateFailure);
            if (issue) http.RequestServices.GetRequiredService<IssuanceService>().RecordRejectedToken(http.GetRouteValue("id") as string, limited);
            if (limited)
            {
                ctx.HandleResponse();
                var refusal = (IssueAuthRateLimitedException)ctx.AuthenticateFailure!;
                Problems.SetRetryAfter(ctx.Response, refusal.RetryAfter);
                return Problems.Of(429, ErrorCodes.AuthFailuresRateLimited, refusal.Message).ExecuteAsync(http);
            }
            var code = ctx.AuthenticateFailure switch
            {
                null => ErrorCodes.Unauthorized,
                SecurityTokenExpiredException => ErrorCodes.TokenExpired,
                _ => ErrorCodes.InvalidToken,
            };
            http.Items[Problems.CodeItem] = code;
            http.RequestServices.GetRequiredService<CouponMetrics>().AuthFailures.Add(1, CouponMetrics.Tag("reason", code));
            return Task.CompletedTask;
        },
        OnForbidden = ctx =>
        {
            ctx.HttpContext.RequestServices.GetRequiredService<CouponMetrics>().AuthFailures.Add(1, CouponMetrics.Tag("reason", ErrorCodes.Forbidden));
            return Task.CompletedTask;
        },
    };
}
