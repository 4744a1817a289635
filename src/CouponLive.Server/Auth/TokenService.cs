using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Auth;

/// <summary>Mints HS256 access tokens. Validation is JwtBearer's, with the same key and parameters.</summary>
public sealed class TokenService(ServerKeys keys, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _credentials = new(new SymmetricSecurityKey(keys.SigningKey), SecurityAlgorithms.HmacSha256);

    public (string Token, DateTimeOffset ExpiresAt) Mint(string userId, string role)
    {
        var now = time.GetUtcNow();
        var expires = now + options.Value.TokenLifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object> { ["sub"] = userId, ["role"] = role },
        });
        return (token, expires);
    }

    public static TokenValidationParameters ValidationParameters(ServerKeys keys, AuthOptions options) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        IssuerSigningKey = new SymmetricSecurityKey(keys.SigningKey),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = "sub",
        RoleClaimType = "role",
    };
}

public static class Principals
{
    public const int MaxUserIdLength = 128;

    /// <summary>The token's subject: the only identity the issue path trusts (it never reads the users table).</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue("sub") ?? throw new InvalidOperationException("Authenticated principal without sub.");

    /// <summary>A usable subject: present, at most 128 chars, no control chars, no broken UTF-16.</summary>
    public static bool IsAcceptableUserId(string? sub)
    {
        if (string.IsNullOrWhiteSpace(sub) || sub.Length > MaxUserIdLength) return false;
        foreach (var rune in sub.EnumerateRunes())
        {
            // Unpaired surrogates enumerate as U+FFFD.
            if (System.Text.Rune.IsControl(rune) || rune == System.Text.Rune.ReplacementChar) return false;
        }
        return true;
    }
}
