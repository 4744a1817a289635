namespace CouponLive.Rpc;

/// <summary>The gRPC status codes (the numbers are the wire values of grpc-status).</summary>
public enum RpcCode
{
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

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

    /// <summary>The status message: "reason: message", so clients that show only the message still see the stable code.</summary>
    public string StatusMessage => Reason.Length == 0 ? Message : Reason + ": " + Message;

    public static RpcStatusException StoreUnavailable { get; } =
        new(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "The store is briefly unavailable; retry shortly.");

    /// <summary>A call without a usable bearer token, with the reason the REST API would give.</summary>
    public static RpcStatusException Unauthenticated(Microsoft.AspNetCore.Authentication.AuthenticateResult auth) =>
        auth.None
            ? new(RpcCode.Unauthenticated, ErrorCodes.Unauthorized, "A bearer token is required (authorization: Bearer <jwt>).")
            : auth.Failure is Microsoft.IdentityModel.Tokens.SecurityTokenExpiredException
                ? new(RpcCode.Unauthenticated, ErrorCodes.TokenExpired, "The token has expired.")
                : new(RpcCode.Unauthenticated, ErrorCodes.InvalidToken, "The token is not valid.");
}

public static class RpcCodes
{
    /// <summary>The status an application error code stands for.</summary>
    public static RpcCode Of(string errorCode) => errorCode switch
    {
        ErrorCodes.CampaignNotFound or ErrorCodes.NotFound => RpcCode.NotFound,
        ErrorCodes.CampaignNameTaken or ErrorCodes.LoginTaken => RpcCode.AlreadyExists,
        ErrorCodes.NotOpen or ErrorCodes.Ended => RpcCode.FailedPrecondition,
        ErrorCodes.SoldOut or ErrorCodes.WindowSoldOut => RpcCode.ResourceExhausted,
        ErrorCodes.Unauthorized or ErrorCodes.InvalidToken or ErrorCodes.TokenExpired or ErrorCodes.InvalidCredentials => RpcCode.Unauthenticated,
        ErrorCodes.Forbidden => RpcCode.PermissionDenied,
        ErrorCodes.ServiceUnavailable => RpcCode.Unavailable,
        ErrorCodes.ServerError => RpcCode.Internal,
        _ => RpcCode.InvalidArgument,
    };

    /// <summary>Connect's lower_snake_case code name.</summary>
    public static string ConnectName(RpcCode code) => code switch
    {
        RpcCode.Cancelled => "canceled", // Connect spells it the American way
        RpcCode.Unknown => "unknown",
        RpcCode.InvalidArgument => "invalid_argument",
        RpcCode.DeadlineExceeded => "deadline_exceeded",
        RpcCode.NotFound => "not_found",
        RpcCode.AlreadyExists => "already_exists",
        RpcCode.PermissionDenied => "permission_denied",
        RpcCode.ResourceExhausted => "resource_exhausted",
        RpcCode.FailedPrecondition => "failed_precondition",
        RpcCode.Aborted => "aborted",
        RpcCode.OutOfRange => "out_of_range",
        RpcCode.Unimplemented => "unimplemented",
        RpcCode.Internal => "internal",
        RpcCode.Unavailable => "unavailable",
        RpcCode.DataLoss => "data_loss",
        RpcCode.Unauthenticated => "unauthenticated",
        _ => "unknown",
    };

    /// <summary>The HTTP status of a Connect unary error (connectrpc.com/docs/protocol, "Error Codes").</summary>
    public static int ConnectHttpStatus(RpcCode code) => code switch
    {
        RpcCode.Cancelled => 499,
        RpcCode.InvalidArgument or RpcCode.FailedPrecondition or RpcCode.OutOfRange => 400,
        RpcCode.DeadlineExceeded => 504,
        RpcCode.NotFound => 404,
        RpcCode.AlreadyExists or RpcCode.Aborted => 409,
        RpcCode.PermissionDenied => 403,
        RpcCode.ResourceExhausted => 429,
        RpcCode.Unimplemented => 501,
        RpcCode.Unavailable => 503,
        RpcCode.Unauthenticated => 401,
        _ => 500,
    };
}
