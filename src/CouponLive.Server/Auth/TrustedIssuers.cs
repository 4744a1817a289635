using System.Buffers;
using System.Buffers.Text;
using System.Security.Claims;
using System.Text.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Auth;

/// <summary>
/// The identity providers of Auth:Issuers, each a JwtBearer scheme of its own (its keys, audience, claims), and the
/// choice between them by a token's iss. Keys come from the library's ConfigurationManager: cached, refreshed when
/// a token names an unknown kid at most once per <see cref="KeyRefreshInterval"/>, and kept when the provider is
/// unreachable.
/// </summary>
public static class TrustedIssuers
{
    /// <summary>The default scheme once providers are configured: it forwards each request to the scheme of its token's iss.</summary>
    public const string SelectorScheme = "token";

    /// <summary>How often an unknown kid may send the service to the provider for keys (a flood of made-up kids cannot hammer it).</summary>
    public static readonly TimeSpan KeyRefreshInterval = TimeSpan.FromSeconds(10);

    public static readonly string[] Algorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];

    public static string SchemeName(int index) => "issuer-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The scheme for a request: the service's own for a remembered or unparsable token or an unknown iss.</summary>
    public static string Select(HttpContext context, ValidatedTokenCache cache, IReadOnlyDictionary<string, string> schemeByIssuer)
    {
        var token = ValidatedTokenCache.BearerToken(context.Request);
        if (token is null || cache.Contains(token) || SignedWithHmac(token)) return JwtBearerDefaults.AuthenticationScheme;
        try
        {
            return schemeByIssuer.GetValueOrDefault(new JsonWebToken(token).Issuer, JwtBearerDefaults.AuthenticationScheme);
        }
        catch (ArgumentException)
        {
            return JwtBearerDefaults.AuthenticationScheme; // not a JWT: the service's scheme refuses it
        }
    }

    /// <summary>
    /// True when the token's header names HS256, the service's own algorithm (providers' schemes accept none but
    /// RS256, PS256 and ES256): a fresh user's token then skips a whole parse just to read its iss. Only the
    /// choice of scheme rests on it; the chosen scheme validates everything.
    /// </summary>
    public static bool SignedWithHmac(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot is <= 0 or > 512) return false;
        Span<byte> header = stackalloc byte[384];
        if (Base64Url.DecodeFromChars(token.AsSpan(0, dot), header, out _, out var length) != OperationStatus.Done) return false;
        var reader = new Utf8JsonReader(header[..length]);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("alg"u8)) continue;
                return reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("HS256"u8);
            }
        }
        catch (JsonException)
        {
            // not JSON: the full parse below refuses it
        }
        return false;
    }

    public static void Configure(JwtBearerOptions o, TrustedIssuerOptions issuer, TimeSpan clockSkew)
    {
        o.MapInboundClaims = false;
        o.SaveToken = false;
        o.RefreshOnIssuerKeyNotFound = true;
        o.RefreshInterval = KeyRefreshInterval;
        o.RequireHttpsMetadata = issuer.RequireHttps;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = issuer.ExpectedIssuer,
            ValidAudience = issuer.Audience,
            ValidAlgorithms = Algorithms,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = clockSkew,
            NameClaimType = issuer.UserClaim,
            RoleClaimType = issuer.RoleClaim,
        };
        if (issuer.Authority is not null)
        {
            o.Authority = issuer.Authority;
        }
        else if (issuer.JwksUrl is not null)
        {
            o.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                issuer.JwksUrl, new JwksRetriever(), new HttpDocumentRetriever { RequireHttps = issuer.RequireHttps })
            {
                RefreshInterval = KeyRefreshInterval,
            };
        }
        else
        {
            o.TokenValidationParameters.IssuerSigningKey = PublicKey(issuer.PublicKeyPem!);
        }
    }

    /// <summary>The principal the service reads (sub and role, as its own tokens have them) from a provider's claims.</summary>
    public static ClaimsPrincipal Normalize(ClaimsPrincipal principal, TrustedIssuerOptions issuer, string scheme)
    {
        var claims = new List<Claim>();
        if (principal.FindFirst(issuer.UserClaim)?.Value is { } user) claims.Add(new Claim("sub", user));
        foreach (var role in principal.FindAll(issuer.RoleClaim)) claims.Add(new Claim("role", role.Value));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, "sub", "role"));
    }

    public static SecurityKey PublicKey(string pem)
    {
        if (pem.Contains("BEGIN PUBLIC KEY", StringComparison.Ordinal) || pem.Contains("BEGIN RSA PUBLIC KEY", StringComparison.Ordinal))
        {
            try
            {
                var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
                return new RsaSecurityKey(rsa);
            }
            catch (CryptographicException)
            {
                // Not RSA: an EC key in the same SubjectPublicKeyInfo form.
            }
        }
        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        return new ECDsaSecurityKey(ec);
    }
}
