using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace CouponLive.Auth;

/// <summary>Checks Auth:Issuers at start, so a wrong identity-provider setting stops the service with the setting's name.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Issuers.Count; i++)
        {
            var o = options.Issuers[i];
            var at = $"Auth:Issuers:{i}";
            var sources = (o.Authority is null ? 0 : 1) + (o.JwksUrl is null ? 0 : 1) + (o.PublicKeyPem is null ? 0 : 1);
            if (sources != 1) errors.Add($"{at}: set exactly one of Authority, JwksUrl and PublicKeyPem.");
            foreach (var (key, url) in new[] { ("Authority", o.Authority), ("JwksUrl", o.JwksUrl) })
            {
                if (url is null) continue;
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                    errors.Add($"{at}:{key} must be an absolute http(s) address.");
                else if (uri.Scheme == "http" && o.RequireHttps)
                    errors.Add($"{at}:{key} is plain http: set {at}:RequireHttps to false to allow it (loopback and local providers only).");
            }
            if (o.PublicKeyPem is not null && !IsPublicKey(o.PublicKeyPem))
                errors.Add($"{at}:PublicKeyPem is not an RSA or EC public key in PEM form.");
            if (string.IsNullOrWhiteSpace(o.ExpectedIssuer)) errors.Add($"{at}:Issuer is required (the iss of its tokens).");
            if (string.IsNullOrWhiteSpace(o.Audience)) errors.Add($"{at}:Audience is required.");
            if (string.IsNullOrWhiteSpace(o.UserClaim) || string.IsNullOrWhiteSpace(o.RoleClaim)) errors.Add($"{at}: UserClaim and RoleClaim must not be empty.");
            if (o.ExpectedIssuer == options.Issuer) errors.Add($"{at}:Issuer must differ from Auth:Issuer (the service's own tokens).");
        }
        if (options.Issuers.Select(o => o.ExpectedIssuer).Distinct().Count() != options.Issuers.Count)
            errors.Add("Auth:Issuers: two issuers have the same Issuer.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsPublicKey(string pem)
    {
        try
        {
            return TrustedIssuers.PublicKey(pem) is not null;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return false;
        }
    }
}
