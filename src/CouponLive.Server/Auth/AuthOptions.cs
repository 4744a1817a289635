namespace CouponLive.Auth;

public sealed class AuthOptions
{
    public string Issuer { get; set; } = "couponlive";
    public string Audience { get; set; } = "couponlive";
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Validated tokens remembered (see <see cref="ValidatedTokenCache"/>); 0 turns the cache off.</summary>
    public int TokenCacheSize { get; set; } = 100_000;
}

public sealed class AdminOptions
{
    public string LoginId { get; set; } = "admin";
    public string? Password { get; set; }
}

public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";
    /// <summary>A backend acting for named users (used by the RPC API).</summary>
    public const string Service = "service";
}
