using System.ComponentModel.DataAnnotations;

namespace CouponLive.Limits;

/// <summary>
/// Flood limits, on by default at rates no person reaches: each is a token bucket of <c>Burst</c>
/// requests refilled at a steady rate. Limits are per process (see README, "Limits").
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Off only for load tests that play many users from one token or address.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Issue requests one user may send at once (a double click is 2).</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:IssuePerUserBurst must be between 1 and 1,000,000.")]
    public int IssuePerUserBurst { get; set; } = 20;

    /// <summary>Issue requests per second one user may keep sending after the burst.</summary>
    [Range(0.001, 1_000_000, ErrorMessage = "RateLimits:IssuePerUserPerSecond must be between 0.001 and 1,000,000.")]
    public double IssuePerUserPerSecond { get; set; } = 10;

    /// <summary>Logins and sign-ups one client address may send at once (many people can share one address).</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:AuthPerAddressBurst must be between 1 and 1,000,000.")]
    public int AuthPerAddressBurst { get; set; } = 50;

    /// <summary>Logins and sign-ups per second one client address may keep sending after the burst.</summary>
    [Range(0.001, 1_000_000, ErrorMessage = "RateLimits:AuthPerAddressPerSecond must be between 0.001 and 1,000,000.")]
    public double AuthPerAddressPerSecond { get; set; } = 10;

    /// <summary>Failed logins (or sign-ups of a taken id) one login id may have before it must wait.</summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:LoginFailuresPerIdBurst must be between 1 and 1,000,000.")]
    public int LoginFailuresPerIdBurst { get; set; } = 10;

    /// <summary>Failed logins per minute one login id may keep having after the burst.</summary>
    [Range(0.001, 1_000_000, ErrorMessage = "RateLimits:LoginFailuresPerIdPerMinute must be between 0.001 and 1,000,000.")]
    public double LoginFailuresPerIdPerMinute { get; set; } = 6;

    /// <summary>Password hashes computed at once (each is ~50 ms of one core); 0 means one per processor.</summary>
    [Range(0, 1024, ErrorMessage = "RateLimits:PasswordChecksAtOnce must be between 0 (one per processor) and 1024.")]
    public int PasswordChecksAtOnce { get; set; }

    /// <summary>Logins and sign-ups waiting for a hash slot; past this they get 503 at once, so a login storm cannot starve issuing.</summary>
    [Range(0, 100_000, ErrorMessage = "RateLimits:PasswordChecksQueued must be between 0 and 100,000.")]
    public int PasswordChecksQueued { get; set; } = 64;
}
