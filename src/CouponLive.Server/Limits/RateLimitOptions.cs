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

    /// <summary>
    /// Issue requests (REST, Connect, gRPC) failing authentication (no token, a forged, expired or otherwise invalid one)
    /// one client address may send before its further issue requests need a token validated before. Twice the login
    /// burst: people behind one NAT whose tokens expired click once or twice each and must then log in again, which
    /// <see cref="AuthPerAddressBurst"/> allows 50 of; more failures than that from one address are no crowd's.
    /// </summary>
    [Range(1, 1_000_000, ErrorMessage = "RateLimits:IssueAuthFailuresPerAddressBurst must be between 1 and 1,000,000.")]
    public int IssueAuthFailuresPerAddressBurst { get; set; } = 100;

    /// <summary>
    /// Such failures per second one client address may keep having after the burst: twice the login rate
    /// (<see cref="AuthPerAddressPerSecond"/>), i.e. every person who can log in again from that address clicking twice
    /// with the stale token first. A script sending forged tokens gets through this many signature checks, not thousands.
    /// </summary>
    [Range(0.001, 1_000_000, ErrorMessage = "RateLimits:IssueAuthFailuresPerAddressPerSecond must be between 0.001 and 1,000,000.")]
    public double IssueAuthFailuresPerAddressPerSecond { get; set; } = 20;

    /// <summary>Password hashes computed at once (each is ~50 ms of one core); 0 means one per processor.</summary>
    [Range(0, 1024, ErrorMessage = "RateLimits:PasswordChecksAtOnce must be between 0 (one per processor) and 1024.")]
    public int PasswordChecksAtOnce { get; set; }

    /// <summary>Logins and sign-ups waiting for a hash slot; past this they get 503 at once, so a login storm cannot starve issuing.</summary>
    [Range(0, 100_000, ErrorMessage = "RateLimits:PasswordChecksQueued must be between 0 and 100,000.")]
    public int PasswordChecksQueued { get; set; } = 64;
}
