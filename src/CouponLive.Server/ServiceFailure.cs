namespace CouponLive;

/// <summary>
/// Why an application service refused a request: a stable code (<see cref="ErrorCodes"/>), the path of the
/// field at fault in the request (empty when none), and a message for people. Each transport maps the code
/// to its own status (HTTP status, gRPC status).
/// </summary>
public sealed record ServiceFailure(string Code, string Field, string Message)
{
    /// <summary>When a refusal for load (429, 503) may be retried.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
