namespace CouponLive.Rpc;

public static class RpcCodes
{
    /// <summary>The status an application error code stands for.</summary>
    public static RpcCode Of(string errorCode) => errorCode switch
    {
        ErrorCodes.CampaignNotFound or ErrorCodes.NotFound => RpcCode.NotFound,
        ErrorCodes.CampaignNameTaken or ErrorCodes.LoginTaken => RpcCode.AlreadyExists,
        ErrorCodes.NotOpen or ErrorCodes.Ended or ErrorCodes.CampaignPaused or ErrorCodes.CampaignCancelled
            or ErrorCodes.QuantityBelowIssued or ErrorCodes.NoCurrentWindow or ErrorCodes.WindowStarted => RpcCode.FailedPrecondition,
        ErrorCodes.CampaignChanged => RpcCode.Aborted,
        ErrorCodes.CouponNotFound => RpcCode.NotFound,
        ErrorCodes.NotHolder => RpcCode.PermissionDenied,
        ErrorCodes.AlreadyRedeemed or ErrorCodes.CouponExpired or ErrorCodes.CouponRevoked or ErrorCodes.OrderMismatch => RpcCode.FailedPrecondition,
        ErrorCodes.SoldOut or ErrorCodes.WindowSoldOut => RpcCode.ResourceExhausted,
        ErrorCodes.Unauthorized or ErrorCodes.InvalidToken or ErrorCodes.TokenExpired or ErrorCodes.InvalidCredentials => RpcCode.Unauthenticated,
        ErrorCodes.Forbidden => RpcCode.PermissionDenied,
        ErrorCodes.AuthRateLimited or ErrorCodes.IssueRateLimited or ErrorCodes.AuthFailuresRateLimited => RpcCode.ResourceExhausted,
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
