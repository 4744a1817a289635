using Microsoft.Net.Http.Headers;

namespace CouponLive.Http;

/// <summary>
/// A request body declaring a charset is read only if it is UTF-8 (JSON is UTF-8: RFC 8259), quoted or not;
/// the header is then rewritten to the plain form, since the framework's JSON reader fails on a quoted one.
/// Any other charset, or an unparsable content type, is refused with 415 before a reader tries it.
/// </summary>
public sealed partial class CharsetGuard(RequestDelegate next, ILogger<CharsetGuard> logger)
{
    public Task InvokeAsync(HttpContext http)
    {
        var contentType = http.Request.ContentType;
        if (contentType is null || !contentType.Contains(';', StringComparison.Ordinal)) return next(http); // the common case

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
            return Refuse(http, ErrorCodes.UnsupportedMediaType, contentType);
        var hasCharset = media.Parameters.Any(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase));
        if (!hasCharset) return next(http);
        var charset = HeaderUtilities.RemoveQuotes(media.Charset).ToString();
        if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return Refuse(http, ErrorCodes.UnsupportedCharset, contentType);
        http.Request.ContentType = media.MediaType + "; charset=utf-8";
        return next(http);
    }

    private Task Refuse(HttpContext http, string code, string contentType)
    {
        LogRefused(http.Request.Method, http.Request.Path, code, contentType);
        http.Items[Problems.CodeItem] = code; // the status code page writes the ProblemDetails with it
        http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} {Path}: {Code} (content type {ContentType})")]
    private partial void LogRefused(string method, string path, string code, string contentType);
}
