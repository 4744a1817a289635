namespace CouponLive.Issuance;

public sealed class IssuanceOptions
{
    /// <summary>How long a request waits for its commit before answering 503 (the commit still goes on).</summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request waits for its campaign's gate to be (re)built before answering 503.</summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
