using System.ComponentModel.DataAnnotations;

namespace CouponLive.Issuance;

/// <summary>When Redis or the store counts as down, and how soon it is tried again (one setting for both).</summary>
public sealed class BreakerOptions
{
    /// <summary>Share of failed calls, over <see cref="SamplingDuration"/>, that opens the circuit.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Breakers:FailureRatio must be between 0.01 and 1.")]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the ratio counts (a single blip never opens it).</summary>
    [Range(2, 10_000, ErrorMessage = "Breakers:MinimumThroughput must be between 2 and 10,000 calls.")]
    public int MinimumThroughput { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Breakers:SamplingDuration must be between 0.5 seconds and 10 minutes.")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an open circuit answers 503 at once before one call probes the dependency again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00", ErrorMessage = "Breakers:BreakDuration must be between 100 ms and 10 minutes.")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromMilliseconds(500);
}
