namespace CouponLive.Lifecycle;

/// <summary>
/// Where this process is in its life: started (everything initialized and every background service running) and
/// draining (SIGTERM received: it still serves, but a load balancer should send nothing new). What readiness and
/// startup report; a shared dependency's outage is not part of it.
/// </summary>
public sealed class ProcessState : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _started;
    private volatile bool _draining;

    public bool IsStarted => _started;

    public bool IsDraining => _draining;

    /// <summary>Ready for new requests: started and not draining.</summary>
    public bool IsReady => _started && !_draining;

    /// <summary>Cancelled when the stop begins, after the process turned unready: what live streams end on.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public void Started() => _started = true;

    public void Draining()
    {
        // Unready first: whoever sees a stream end and asks again finds the process unready.
        _draining = true;
        _stopping.Cancel();
    }

    public void Dispose() => _stopping.Dispose();
}
