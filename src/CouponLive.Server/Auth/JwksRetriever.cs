using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Auth;

/// <summary>
/// Reads a bare JWKS document (Auth:Issuers:N:JwksUrl) as the signing keys of a configuration, so the library's
/// ConfigurationManager caches and refreshes it exactly as it does discovery metadata (the library reads JWKS only
/// behind discovery).
/// </summary>
public sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
        var configuration = new OpenIdConnectConfiguration { JwksUri = address, JsonWebKeySet = keys };
        foreach (var key in keys.GetSigningKeys()) configuration.SigningKeys.Add(key);
        return configuration;
    }
}
