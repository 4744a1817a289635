using System.ComponentModel.DataAnnotations;

namespace CouponLive.Auth;

public sealed class AuthOptions
{
    [Required(AllowEmptyStrings = false, ErrorMessage = "Auth:Issuer must not be empty.")]
    public string Issuer { get; set; } = "couponlive";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Auth:Audience must not be empty.")]
    public string Audience { get; set; } = "couponlive";

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00", ErrorMessage = "Auth:TokenLifetime must be between 1 minute and 7 days.")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Validated tokens remembered (see <see cref="ValidatedTokenCache"/>); 0 turns the cache off.</summary>
    [Range(0, 10_000_000, ErrorMessage = "Auth:TokenCacheSize must be between 0 (off) and 10,000,000 tokens.")]
    public int TokenCacheSize { get; set; } = 100_000;

    /// <summary>Identity providers whose RS256/PS256/ES256 tokens are accepted beside the service's own HS256 ones.</summary>
    public List<TrustedIssuerOptions> Issuers { get; set; } = [];
}
