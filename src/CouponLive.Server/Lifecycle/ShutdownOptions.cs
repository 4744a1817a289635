using System.ComponentModel.DataAnnotations;

namespace CouponLive.Lifecycle;

/// <summary>How the process stops on SIGTERM (section <c>Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    /// <summary>
    /// How long the process keeps serving after it turned unready, so a load balancer that follows /health/ready
    /// (or Kubernetes removing the pod's endpoint) moves new requests away before the listener closes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Shutdown:DrainDelay must be between 0 and 1 minute.")]
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After the drain delay: how long in-flight requests, the group-commit writer and the event relay get to finish
    /// before the host gives up on them. The host's shutdown timeout is the two together.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Shutdown:Timeout must be between 1 second and 5 minutes.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);
}
