using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Mints tokens the way an external identity provider or the load tool would: from the shared key alone.</summary>
public static class TestTokens
{
    public const string SigningKey = "DEVELOPMENT-ONLY test signing key, 32+ bytes long";
    public const string CodeKey = "DEVELOPMENT-ONLY test code key";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static string Mint(
        string? userId,
        string role = "user",
        TimeSpan? lifetime = null,
        string audience = "couponlive",
        string issuer = "couponlive",
        string key = SigningKey,
        DateTimeOffset? now = null)
    {
        var issuedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var claims = new Dictionary<string, object> { ["role"] = role };
        if (userId is not null) claims["sub"] = userId;
        var expires = issuedAt + (lifetime ?? TimeSpan.FromHours(1));
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issuedAt < expires ? issuedAt : expires.AddMinutes(-1),
            NotBefore = issuedAt < expires ? issuedAt : expires.AddMinutes(-1),
            Expires = expires,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>An unsigned token ("alg":"none") with otherwise valid claims.</summary>
    public static string UnsignedToken(string userId, string role = "admin")
    {
        static string B64(string json) => Base64UrlEncoder.Encode(json);
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        return B64("""{"alg":"none","typ":"JWT"}""") + "." +
               B64($$"""{"sub":"{{userId}}","role":"{{role}}","iss":"couponlive","aud":"couponlive","exp":{{exp}}}""") + ".";
    }
}
