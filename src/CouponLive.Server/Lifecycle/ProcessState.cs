namespace CouponLive.Lifecycle;

/// <summary>
/// Where this process is in its life: started (everything initialized and every background service running) and
/// draining (SIGTERM received: it still serves, but a load balancer should send nothing new). What readiness and
/// startup report; a shared dependency's outage is not part of it.
/// </summary>
public sealed class ProcessState
{
    private volatile bool _started;
    private volatile bool _draining;

    public bool IsStarted => _started;

    public bool IsDraining => _draining;

    /// <summary>Ready for new requests: started and not draining.</summary>
    public bool IsReady => _started && !_draining;

    public void Started() => _started = true;

    public void Draining() => _draining = true;
}
