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
}
