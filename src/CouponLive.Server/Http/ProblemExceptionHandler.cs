using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace CouponLive.Http;

/// <summary>
/// Turns bad requests the framework rejects (malformed JSON, oversized bodies, wrong media type)
/// into ProblemDetails with a stable code, answers a dependency's outage (<see cref="DependencyOutage"/>) 503 with
/// Retry-After, logs each once, and keeps 500s opaque.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (IsAbandoned(http, exception))
        {
            // The client went away (or its connection broke) mid-request: nobody to answer, nothing wrong here.
            LogAbandoned(http.Request.Method, http.Request.Path, exception.GetType().Name);
            return true;
        }
        int status;
        string code, detail;
        string? field = null;
        switch (exception)
        {
            case BadHttpRequestException { StatusCode: 413 }:
                (status, code, detail) = (413, ErrorCodes.BodyTooLarge, "The request body is too large.");
                break;
            case BadHttpRequestException { InnerException: JsonException json }:
                (status, code, detail) = (400, ErrorCodes.InvalidJson, "The request body is not valid JSON for this operation.");
                field = string.IsNullOrEmpty(json.Path) ? null : json.Path.TrimStart('$', '.');
                break;
            case BadHttpRequestException bad:
                (status, code, detail) = (bad.StatusCode, Problems.DefaultCode(bad.StatusCode), bad.StatusCode == 415
                    ? "The request body must be application/json."
                    : "The request could not be read.");
                break;
            case var outage when DependencyOutage.Is(outage):
                // The store or Redis is down (a read, an operator's change, a lease): the client retries, as the
                // issue path's own 503s say. A warning, once for this request; not an error of ours.
                LogOutage(http.Request.Method, http.Request.Path, DependencyOutage.Describe(exception));
                (status, code, detail) = (503, ErrorCodes.ServiceUnavailable, "A service this request needs is briefly unavailable; retry shortly.");
                http.Response.Headers.RetryAfter = "1";
                break;
            default:
                LogUnhandled(exception, http.Request.Method, http.Request.Path);
                (status, code, detail) = (500, ErrorCodes.ServerError, "An unexpected error occurred.");
                break;
        }
        if (status < 500) LogBadRequest(http.Request.Method, http.Request.Path, code, exception.Message);

        http.Response.StatusCode = status;
        var context = new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = { Status = status, Detail = detail },
        };
        context.ProblemDetails.Extensions["code"] = code;
        if (field is not null) context.ProblemDetails.Extensions["field"] = field;
        return await problems.TryWriteAsync(context);
    }

    /// <summary>An exception that only says the request's connection is gone.</summary>
    public static bool IsAbandoned(HttpContext http, Exception exception) =>
        http.RequestAborted.IsCancellationRequested && exception is OperationCanceledException or IOException
        || exception is IOException { InnerException: Microsoft.AspNetCore.Connections.ConnectionAbortedException }
        || exception is Microsoft.AspNetCore.Connections.ConnectionAbortedException;

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} abandoned by its client ({Exception})")]
    private partial void LogAbandoned(string method, string path, string exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} {Path}: {Code} ({Reason})")]
    private partial void LogBadRequest(string method, string path, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered 503: a dependency is unavailable ({Cause})")]
    private partial void LogOutage(string method, string path, string cause);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private partial void LogUnhandled(Exception ex, string method, string path);
}
