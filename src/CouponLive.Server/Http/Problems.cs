using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Http;

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

    /// <summary>A service's refusal as ProblemDetails, with the HTTP status its code stands for.</summary>
    public static ProblemHttpResult Of(ServiceFailure failure)
    {
        var problem = Of(StatusOf(failure.Code), failure.Code, failure.Message, failure.Field.Length > 0 ? failure.Field : null);
        if (failure.Details is { } details)
            foreach (var (key, value) in details) problem.ProblemDetails.Extensions[key] = value;
        return problem;
    }

    /// <summary>A service's refusal, with Retry-After on the response when it says when to retry.</summary>
    public static ProblemHttpResult Of(ServiceFailure failure, HttpResponse response)
    {
        if (failure.RetryAfter is { } after) SetRetryAfter(response, after);
        return Of(failure);
    }

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.CampaignNotFound or ErrorCodes.NotFound => 404,
        ErrorCodes.CampaignNameTaken or ErrorCodes.LoginTaken => 409,
        ErrorCodes.NotOpen or ErrorCodes.Ended or ErrorCodes.SoldOut or ErrorCodes.WindowSoldOut => 409,
        ErrorCodes.CampaignPaused or ErrorCodes.CampaignCancelled or ErrorCodes.QuantityBelowIssued or ErrorCodes.NoCurrentWindow => 409,
        ErrorCodes.WindowStarted => 409, // the campaign as it is now (by the gate's clock) refuses the change
        ErrorCodes.CampaignChanged => 412,
        ErrorCodes.CouponNotFound or ErrorCodes.GrantNotFound => 404,
        ErrorCodes.NotHolder => 403,
        ErrorCodes.AlreadyRedeemed or ErrorCodes.CouponExpired or ErrorCodes.CouponRevoked or ErrorCodes.OrderMismatch => 409,
        ErrorCodes.Unauthorized or ErrorCodes.InvalidToken or ErrorCodes.TokenExpired or ErrorCodes.InvalidCredentials => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.AuthRateLimited or ErrorCodes.IssueRateLimited or ErrorCodes.AuthFailuresRateLimited => 429,
        ErrorCodes.ServiceUnavailable => 503,
        ErrorCodes.ServerError => 500,
        _ => 400,
    };

    /// <summary>Sets Retry-After in whole seconds, rounded up and at least 1 (a 0 would invite an instant retry).</summary>
    public static void SetRetryAfter(HttpResponse response, TimeSpan after) =>
        response.Headers.RetryAfter = RetryAfterSeconds(after).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static long RetryAfterSeconds(TimeSpan after) => Math.Max(1, (long)Math.Ceiling(after.TotalSeconds));

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
