using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace CouponLive.Http;

/// <summary>
/// A ProblemDetails answer whose constant part (type, title, status, detail, code) is encoded once.
/// The issue endpoint gives the crowd after a sell-out thousands of these a second, so it skips the
/// ProblemDetails service (a dictionary, a serializer pass and a chunked body per answer; see
/// <see cref="BufferedJson"/>). The body is the one <see cref="Problems.Of(int, string, string, string?, DateTimeOffset?)"/> gives: the same fields
/// in the same order, with traceId.
/// </summary>
public sealed class PreparedProblem : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    private const string ProblemContentType = "application/problem+json";

    private readonly Template _template;
    private readonly DateTimeOffset? _opensAt;

    public PreparedProblem(int status, string code, string detail) : this(new Template(status, code, detail), null)
    {
    }

    private PreparedProblem(Template template, DateTimeOffset? opensAt)
    {
        _template = template;
        _opensAt = opensAt;
    }

    public int StatusCode => _template.Status;

    int? IStatusCodeHttpResult.StatusCode => _template.Status;

    public string ContentType => ProblemContentType;

    /// <summary>The same problem with the <c>opensAt</c> extension (the next window), if there is one.</summary>
    public PreparedProblem WithOpensAt(DateTimeOffset? opensAt) => opensAt is null ? this : new PreparedProblem(_template, opensAt);

    public Task ExecuteAsync(HttpContext http) =>
        BufferedJson.WriteAsync(http, _template.Status, ProblemContentType, (Problem: this, http.TraceIdentifier),
            static (json, state) => state.Problem._template.Write(json, state.Problem._opensAt, state.TraceIdentifier));

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(ProblemDetails), [ProblemContentType]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status429TooManyRequests, typeof(ProblemDetails), [ProblemContentType]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status503ServiceUnavailable, typeof(ProblemDetails), [ProblemContentType]));
    }

    private sealed class Template
    {
        private static readonly JsonEncodedText TypeName = JsonEncodedText.Encode("type");
        private static readonly JsonEncodedText TitleName = JsonEncodedText.Encode("title");
        private static readonly JsonEncodedText StatusName = JsonEncodedText.Encode("status");
        private static readonly JsonEncodedText DetailName = JsonEncodedText.Encode("detail");
        private static readonly JsonEncodedText CodeName = JsonEncodedText.Encode("code");
        private static readonly JsonEncodedText OpensAtName = JsonEncodedText.Encode("opensAt");
        private static readonly JsonEncodedText TraceIdName = JsonEncodedText.Encode("traceId");

        private readonly JsonEncodedText? _type;
        private readonly JsonEncodedText? _title;
        private readonly JsonEncodedText _detail;
        private readonly JsonEncodedText _code;

        public Template(int status, string code, string detail)
        {
            // The framework's type and title for the status, as TypedResults.Problem fills them in.
            var defaults = TypedResults.Problem(statusCode: status).ProblemDetails;
            Status = status;
            _type = defaults.Type is null ? null : JsonEncodedText.Encode(defaults.Type, BufferedJson.Encoder);
            _title = defaults.Title is null ? null : JsonEncodedText.Encode(defaults.Title, BufferedJson.Encoder);
            _detail = JsonEncodedText.Encode(detail, BufferedJson.Encoder);
            _code = JsonEncodedText.Encode(code, BufferedJson.Encoder);
        }

        public int Status { get; }

        public void Write(Utf8JsonWriter json, DateTimeOffset? opensAt, string traceId)
        {
            json.WriteStartObject();
            if (_type is { } type) json.WriteString(TypeName, type);
            if (_title is { } title) json.WriteString(TitleName, title);
            json.WriteNumber(StatusName, Status);
            json.WriteString(DetailName, _detail);
            json.WriteString(CodeName, _code);
            if (opensAt is { } at) json.WriteString(OpensAtName, at);
            json.WriteString(TraceIdName, traceId);
            json.WriteEndObject();
        }
    }
}
