using System.ComponentModel.DataAnnotations;

namespace CouponLive.Issuance;

public sealed class IssuanceOptions
{
    /// <summary>How long a request waits for its commit before answering 503 (the commit still goes on).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Issuance:CommitTimeout must be between 0 and 10 minutes.")]
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request waits for its campaign's gate to be (re)built before answering 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Issuance:LoadTimeout must be between 0 and 10 minutes.")]
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Admitted issues that may wait for the store at once. Past this, issue requests answer 503 at once
    /// (before the gate admits anyone) until commits catch up: a slow store costs bounded memory.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Issuance:MaxPendingCommits must be between 1 and 10,000,000.")]
    public int MaxPendingCommits { get; set; } = 50_000;

    /// <summary>
    /// Committed coupons a process remembers to answer their winners' repeated clicks without the gate or the
    /// store (about 100 bytes each); when full, it starts over. 0 sends every repeated click through both.
    /// </summary>
    [Range(0, 100_000_000, ErrorMessage = "Issuance:CommittedCouponsRemembered must be between 0 and 100,000,000.")]
    public int CommittedCouponsRemembered { get; set; } = 1_000_000;

    /// <summary>
    /// How long after its last window ends a campaign stays in this process's memory (its definition, its in-process gate,
    /// its remembered winners). A later request reads it from the store again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "366.00:00:00", ErrorMessage = "Issuance:ForgetEndedAfter must be between 1 second and 366 days.")]
    public TimeSpan ForgetEndedAfter { get; set; } = TimeSpan.FromHours(1);
}
