using System.Globalization;
using System.Security.Claims;
using System.Text;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Rpc.V1;
using Google.Protobuf;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Rpc;

/// <summary>
/// The protocol adapter: one POST route per method serving unary gRPC (application/grpc, HTTP/2) and
/// Connect (application/json or application/proto, HTTP/1.1 or HTTP/2). It authenticates with the REST
/// API's JwtBearer scheme but answers failures as RPC statuses, never 401 ProblemDetails.
/// Hand-written because Grpc.AspNetCore does not restore here; see docs/adr/0005.
/// </summary>
public static partial class RpcEndpoints
{
    public const string ServicePath = "/couponlive.v1.CouponService";

    /// <summary>Where gRPC (and Connect over HTTP/2) listens when Rpc:GrpcUrl is not set; an empty setting turns the port off.</summary>
    public const string DefaultGrpcUrl = "http://127.0.0.1:8081";

    private enum Protocol { Grpc, ConnectJson, ConnectProto }

    private delegate Task<IMessage> Invoker(CouponRpcService service, IMessage request, ClaimsPrincipal user, CancellationToken ct);

    private sealed record Method(MessageParser Parser, Google.Protobuf.Reflection.MessageDescriptor Request, Invoker Invoke);

    private static readonly Dictionary<string, Method> Methods = new(StringComparer.Ordinal)
    {
        ["CreateCampaign"] = new(V1.CreateCampaignRequest.Parser, V1.CreateCampaignRequest.Descriptor,
            async (s, m, u, ct) => await s.CreateCampaignAsync((V1.CreateCampaignRequest)m, u, ct)),
        ["GetCampaign"] = new(GetCampaignRequest.Parser, GetCampaignRequest.Descriptor,
            async (s, m, u, ct) => await s.GetCampaignAsync((GetCampaignRequest)m, u, ct)),
        ["IssueCoupon"] = new(IssueCouponRequest.Parser, IssueCouponRequest.Descriptor,
            async (s, m, u, ct) => await s.IssueCouponAsync((IssueCouponRequest)m, u, ct)),
    };

    // Protobuf JSON mapping (int64 as strings, RFC 3339 timestamps); unknown fields are ignored for forward compatibility.
    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>Serves gRPC on an extra HTTP/2-only endpoint (Rpc:GrpcUrl); Kestrel speaks cleartext HTTP/2 only there.</summary>
    public static WebApplicationBuilder AddCouponRpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CouponRpcService>();
        var grpcUrl = builder.Configuration["Rpc:GrpcUrl"] ?? DefaultGrpcUrl;
        if (string.IsNullOrWhiteSpace(grpcUrl)) return builder;
        if (!Uri.TryCreate(grpcUrl, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.IsDefaultPort || uri.Port == 0)
            throw new InvalidOperationException($"Rpc:GrpcUrl must be an http:// URL with an explicit port (got '{grpcUrl}'), or empty to turn gRPC off.");

        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } u ? u : "http://localhost:5000";
        builder.WebHost.UseUrls(urls + ";" + grpcUrl);
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(listen =>
        {
            if (listen.IPEndPoint?.Port == uri.Port) listen.Protocols = HttpProtocols.Http2;
        }));
        return builder;
    }

    public static IEndpointRouteBuilder MapCouponRpc(this IEndpointRouteBuilder app)
    {
        app.MapPost(ServicePath + "/{method}", HandleAsync).WithTags("RPC").ExcludeFromDescription();
        return app;
    }

    private static async Task HandleAsync(HttpContext http)
    {
        if (Detect(http.Request.ContentType) is not { } protocol)
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        var services = http.RequestServices;
        try
        {
            var response = await InvokeAsync(http, protocol, services);
            if (protocol == Protocol.Grpc)
            {
                http.Response.ContentType = "application/grpc";
                http.Response.Headers["grpc-accept-encoding"] = "identity";
                await http.Response.Body.WriteAsync(RpcWire.Frame(response), http.RequestAborted);
                http.Response.AppendTrailer("grpc-status", "0");
            }
            else
            {
                var body = protocol == Protocol.ConnectJson ? Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(response)) : response.ToByteArray();
                http.Response.ContentType = protocol == Protocol.ConnectJson ? "application/json" : "application/proto";
                http.Response.ContentLength = body.Length;
                await http.Response.Body.WriteAsync(body, http.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            var error = ex switch
            {
                RpcException rpc => rpc,
                StoreUnavailableException => new RpcException(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "The store is briefly unavailable; retry shortly."),
                _ => null,
            };
            if (error is null)
            {
                LogUnhandled(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RpcEndpoints)), ex, http.Request.Path);
                error = new RpcException(RpcCode.Internal, ErrorCodes.ServerError, "An unexpected error occurred.");
            }
            await WriteErrorAsync(http, protocol, error);
        }
    }

    private static async Task<IMessage> InvokeAsync(HttpContext http, Protocol protocol, IServiceProvider services)
    {
        var request = http.Request;
        if (protocol == Protocol.Grpc && !http.Response.SupportsTrailers())
            throw new RpcException(RpcCode.Unimplemented, "rpc.http2_required", "gRPC needs HTTP/2; use the gRPC port (Rpc:GrpcUrl) or the Connect protocol.");
        if (protocol != Protocol.Grpc && request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding.ToString() != "identity")
            throw new RpcException(RpcCode.Unimplemented, "rpc.compression_unsupported", "Compressed requests are not supported; send identity encoding.");

        TimeSpan? timeout = null;
        var timeoutHeader = protocol == Protocol.Grpc ? "grpc-timeout" : "connect-timeout-ms";
        if (request.Headers[timeoutHeader] is { Count: > 0 } timeoutText)
        {
            var ok = protocol == Protocol.Grpc
                ? RpcWire.TryParseGrpcTimeout(timeoutText.ToString(), out var t)
                : RpcWire.TryParseConnectTimeout(timeoutText.ToString(), out t);
            if (!ok) throw new RpcException(RpcCode.InvalidArgument, "rpc.invalid_timeout", $"{timeoutHeader} is malformed.");
            if (t <= TimeSpan.Zero) throw DeadlineExceeded();
            timeout = t;
        }

        // Authenticated by the REST API's JwtBearer scheme (already run by UseAuthentication; the result is cached).
        var auth = await http.AuthenticateAsync();
        if (!auth.Succeeded)
        {
            throw auth.None
                ? new RpcException(RpcCode.Unauthenticated, ErrorCodes.Unauthorized, "A bearer token is required (authorization: Bearer <jwt>).")
                : auth.Failure is SecurityTokenExpiredException
                    ? new RpcException(RpcCode.Unauthenticated, ErrorCodes.TokenExpired, "The token has expired.")
                    : new RpcException(RpcCode.Unauthenticated, ErrorCodes.InvalidToken, "The token is not valid.");
        }

        var name = http.Request.RouteValues["method"] as string ?? "";
        if (!Methods.TryGetValue(name, out var method))
            throw new RpcException(RpcCode.Unimplemented, "rpc.unknown_method", $"couponlive.v1.CouponService has no method '{name}'.");

        var limit = RpcWire.MaxMessageBytes + (protocol == Protocol.Grpc ? RpcWire.FrameHeaderBytes : 0);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature) sizeFeature.MaxRequestBodySize = limit + 1;
        byte[]? body;
        try
        {
            body = await RpcWire.ReadBodyAsync(request.BodyReader, limit, http.RequestAborted);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException bad) when (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null;
        }
        if (body is null)
            throw new RpcException(RpcCode.ResourceExhausted, "rpc.message_too_large", $"The message is larger than {RpcWire.MaxMessageBytes} bytes.");

        IMessage message;
        try
        {
            message = protocol switch
            {
                Protocol.Grpc => method.Parser.ParseFrom(RpcWire.ReadUnaryFrame(body).Span),
                Protocol.ConnectProto => method.Parser.ParseFrom(body),
                _ => Json.Parse(Encoding.UTF8.GetString(body), method.Request),
            };
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException or DecoderFallbackException)
        {
            throw new RpcException(RpcCode.InvalidArgument, ErrorCodes.InvalidJson, "The request message could not be decoded: " + ex.Message);
        }

        var service = services.GetRequiredService<CouponRpcService>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var call = method.Invoke(service, message, auth.Principal!, cts.Token);
        if (timeout is null) return await call;
        try
        {
            // Also bounds work that ignores cancellation (a commit is never cancelled, only no longer awaited).
            return await call.WaitAsync(timeout.Value, services.GetRequiredService<TimeProvider>());
        }
        catch (TimeoutException)
        {
            await cts.CancelAsync();
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw DeadlineExceeded();
        }
    }

    private static RpcException DeadlineExceeded() =>
        new(RpcCode.DeadlineExceeded, "rpc.deadline_exceeded", "The deadline expired before the call completed.");

    private static async Task WriteErrorAsync(HttpContext http, Protocol protocol, RpcException error)
    {
        var response = http.Response;
        if (protocol == Protocol.Grpc)
        {
            // Trailers-only: status in the headers, no body, one HEADERS frame with END_STREAM.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = ((int)error.Code).ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = RpcWire.PercentEncode(error.StatusMessage);
            response.Headers["grpc-status-details-bin"] = RpcWire.StatusDetailsBin(error);
            return;
        }
        var body = RpcWire.ConnectErrorJson(error);
        response.StatusCode = RpcCodes.ConnectHttpStatus(error.Code);
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, CancellationToken.None);
    }

    private static Protocol? Detect(string? contentType)
    {
        if (contentType is null) return null;
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
        return media switch
        {
            "application/grpc" or "application/grpc+proto" => Protocol.Grpc,
            "application/json" => Protocol.ConnectJson,
            "application/proto" => Protocol.ConnectProto,
            _ => null,
        };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in RPC {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception ex, string path);
}
