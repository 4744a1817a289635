namespace CouponLive.Rpc;

/// <summary>
/// An RPC error: a status code plus the REST error code (<see cref="Reason"/>, e.g. "campaign.sold_out"),
/// which starts the message and travels as a google.rpc.ErrorInfo detail with optional metadata (field, opens_at).
/// </summary>
public sealed class RpcStatusException(RpcCode code, string reason, string message, IReadOnlyDictionary<string, string>? metadata = null)
    : Exception(message)
{
    public RpcCode Code { get; } = code;
    public string Reason { get; } = reason;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata ?? new Dictionary<string, string>();

    /// <summary>
    /// The HTTP status a Connect answer uses instead of the code's usual one: the client's own doing (an
    /// unknown method, an encoding the server does not speak, its deadline) is a 4xx, never a 5xx that
    /// monitoring would count as a server fault. Connect clients read the code from the body.
    /// </summary>
    public int? ConnectHttpStatus { get; init; }

    /// <summary>When a refusal for load may be retried: a google.rpc.RetryInfo detail, and Retry-After on Connect answers.</summary>
    public TimeSpan? RetryAfter { get; init; }

    private byte[]? _connectJson;

    /// <summary>
    /// The Connect error body, built once per instance: the late crowd's refusals are shared instances (sold out),
    /// and building the JSON with its ErrorInfo detail per answer was a measurable share of a Connect refusal.
    /// </summary>
    public byte[] ConnectJson => _connectJson ??= RpcWire.ConnectErrorJson(this);

    /// <summary>The status message: "reason: message", so clients that show only the message still see the stable code.</summary>
    public string StatusMessage => Reason.Length == 0 ? Message : Reason + ": " + Message;

    public static RpcStatusException StoreUnavailable { get; } =
        new(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "The store is briefly unavailable; retry shortly.") { RetryAfter = TimeSpan.FromSeconds(1) };

    /// <summary>A call without a usable bearer token, with the reason the REST API would give.</summary>
    public static RpcStatusException Unauthenticated(Microsoft.AspNetCore.Authentication.AuthenticateResult auth) => auth switch
    {
        // Not the token's fault: its address failed too often (IssueAuthFailureLimiter), so it was not looked at.
        { Failure: Limits.IssueAuthRateLimitedException limited } =>
            new(RpcCodes.Of(ErrorCodes.AuthFailuresRateLimited), ErrorCodes.AuthFailuresRateLimited, limited.Message) { RetryAfter = limited.RetryAfter },
        { None: true } => new(RpcCode.Unauthenticated, ErrorCodes.Unauthorized, "A bearer token is required (authorization: Bearer <jwt>)."),
        { Failure: Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException } => new(RpcCode.Unauthenticated, ErrorCodes.TokenExpired, "The token has expired."),
        _ => new(RpcCode.Unauthenticated, ErrorCodes.InvalidToken, "The token is not valid."),
    };
}
