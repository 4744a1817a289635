namespace CouponLive.Auth;

/// <summary>
/// An identity provider whose tokens the service accepts (Auth:Issuers:N): its keys from OpenID Connect discovery
/// (<see cref="Authority"/>), a JWKS document (<see cref="JwksUrl"/>) or one public key (<see cref="PublicKeyPem"/>),
/// exactly one of them; RS256, PS256 and ES256 signatures.
/// </summary>
public sealed class TrustedIssuerOptions
{
    /// <summary>The provider's base address; its metadata is read from /.well-known/openid-configuration.</summary>
    public string? Authority { get; set; }

    public string? JwksUrl { get; set; }

    public string? PublicKeyPem { get; set; }

    /// <summary>The tokens' iss; defaults to <see cref="Authority"/> (required with the other two).</summary>
    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    /// <summary>The claim holding the user id (the service's sub).</summary>
    public string UserClaim { get; set; } = "sub";

    /// <summary>The claim holding the role (a string or an array): "admin" and "service" as for the service's own tokens.</summary>
    public string RoleClaim { get; set; } = "role";

    /// <summary>False allows plain-http metadata and keys (loopback tests, a local provider).</summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>The iss its tokens carry.</summary>
    public string? ExpectedIssuer => Issuer ?? Authority?.TrimEnd('/');
}
