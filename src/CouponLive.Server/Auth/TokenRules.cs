using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Auth;

/// <summary>
/// What a validated token must also be, beyond what JwtBearer checks: no critical header extension the
/// service does not understand (RFC 7515 4.1.11 requires refusing the token), and registered time claims
/// that are JSON numbers (RFC 7519: NumericDate), not strings a lenient parser reads as numbers.
/// Run once per token: a validated token is then remembered (<see cref="ValidatedTokenCache"/>).
/// </summary>
public static class TokenRules
{
    private static readonly string[] TimeClaims = ["exp", "nbf", "iat"];

    /// <summary>Why the token must be refused, or null.</summary>
    public static string? Violation(JsonWebToken jwt)
    {
        if (jwt.TryGetHeaderValue<object>("crit", out _))
            return "The token names critical header parameters (crit), and this service understands none.";
        try
        {
            using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
            foreach (var name in TimeClaims)
            {
                if (payload.RootElement.TryGetProperty(name, out var claim) && claim.ValueKind != JsonValueKind.Number)
                    return $"The token's {name} is not a number.";
            }
        }
        catch (JsonException)
        {
            return "The token's payload is not JSON.";
        }
        return null;
    }
}
