using System.Buffers;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace CouponLive.Http;

/// <summary>
/// A ProblemDetails answer whose constant part (type, title, status, detail, code) is encoded once.
/// The issue endpoint gives the crowd after a sell-out thousands of these a second, so it skips the
/// ProblemDetails service (a dictionary, a serializer pass and a chunked body per answer). The body
/// is the one <see cref="Problems.Of"/> gives: the same fields in the same order, with traceId.
/// </summary>
public sealed class PreparedProblem : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    private const string ProblemContentType = "application/problem+json";

    // The encoder of ASP.NET Core's HTTP JSON options, so the text is escaped as the service's other answers are.
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_json;

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

    public Task ExecuteAsync(HttpContext http)
    {
        // Encoded synchronously into this thread's buffer, then copied into the response pipe before any await.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var json = t_json ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder });
        json.Reset(buffer);
        _template.Write(json, _opensAt, http.TraceIdentifier);
        json.Flush();

        var response = http.Response;
        response.StatusCode = _template.Status;
        response.ContentType = ProblemContentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        json.Reset(); // drop the buffer reference until the next answer on this thread
        var flush = response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status409Conflict, typeof(ProblemDetails), [ProblemContentType]));
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
            _type = defaults.Type is null ? null : JsonEncodedText.Encode(defaults.Type, Encoder);
            _title = defaults.Title is null ? null : JsonEncodedText.Encode(defaults.Title, Encoder);
            _detail = JsonEncodedText.Encode(detail, Encoder);
            _code = JsonEncodedText.Encode(code, Encoder);
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
