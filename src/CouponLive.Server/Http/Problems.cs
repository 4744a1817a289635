using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Http;

/// <summary>Stable machine-readable error codes, carried as the <c>code</c> extension of every ProblemDetails.</summary>
public static class ErrorCodes
{
    public const string InvalidJson = "request.invalid_json";
    public const string BodyTooLarge = "request.too_large";
    public const string BadRequest = "request.invalid";
    public const string UnsupportedMediaType = "request.unsupported_media_type";
    public const string NotFound = "http.not_found";
    public const string MethodNotAllowed = "http.method_not_allowed";
    public const string Unauthorized = "auth.unauthorized";
    public const string TokenExpired = "auth.token_expired";
    public const string InvalidToken = "auth.invalid_token";
    public const string Forbidden = "auth.forbidden";
    public const string InvalidCredentials = "auth.invalid_credentials";
    public const string LoginTaken = "user.login_taken";
    public const string InvalidLoginId = "user.invalid_login_id";
    public const string WeakPassword = "user.weak_password";
    public const string CampaignNotFound = "campaign.not_found";
    public const string CampaignNameTaken = "campaign.name_taken";
    public const string NotOpen = "campaign.not_open";
    public const string Ended = "campaign.ended";
    public const string SoldOut = "campaign.sold_out";
    public const string WindowSoldOut = "campaign.window_sold_out";
    public const string InvalidPaging = "request.invalid_paging";
    public const string InvalidCode = "coupon.invalid_code";
    public const string ServiceUnavailable = "service.unavailable";
    public const string ServerError = "server.error";
}

public static class Problems
{
    /// <summary>HttpContext.Items key through which handlers that cannot return a result (auth events) pick the code.</summary>
    public const string CodeItem = "couponlive.problem.code";

    public static ProblemHttpResult Of(int status, string code, string detail, string? field = null, DateTimeOffset? opensAt = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (field is not null) extensions["field"] = field;
        if (opensAt is not null) extensions["opensAt"] = opensAt;
        return TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions);
    }

    /// <summary>The code for a bare status (404 route, 405, 401 challenge...) when a handler did not choose one.</summary>
    public static string DefaultCode(int status) => status switch
    {
        400 => ErrorCodes.BadRequest,
        401 => ErrorCodes.Unauthorized,
        403 => ErrorCodes.Forbidden,
        404 => ErrorCodes.NotFound,
        405 => ErrorCodes.MethodNotAllowed,
        413 => ErrorCodes.BodyTooLarge,
        415 => ErrorCodes.UnsupportedMediaType,
        503 => ErrorCodes.ServiceUnavailable,
        >= 500 => ErrorCodes.ServerError,
        _ => ErrorCodes.BadRequest,
    };
}
