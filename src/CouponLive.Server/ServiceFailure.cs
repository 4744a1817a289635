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

    /// <summary>Facts a client acts on beside the code (e.g. the first <c>redeemedAt</c>), as ProblemDetails extensions and RPC error metadata.</summary>
    public IReadOnlyDictionary<string, string>? Details { get; init; }
}
