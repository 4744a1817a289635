using System.ComponentModel.DataAnnotations;

namespace CouponLive.Issuance;

public sealed class ReconcilerOptions
{
    /// <summary>How often the outboxes are swept.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "Reconciler:Interval must be between 10 ms and 1 hour.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Entries younger than this are left to the process that admitted them.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Reconciler:Delay must be between 0 and 1 hour.")]
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(3);
}
