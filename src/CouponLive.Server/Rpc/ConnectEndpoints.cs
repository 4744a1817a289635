using System.Security.Claims;
using System.Text;
using CouponLive.Rpc.V1;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.Features;

namespace CouponLive.Rpc;

/// <summary>
/// The Connect unary protocol (application/json or application/proto, HTTP/1.1 or HTTP/2) over
/// <see cref="CouponRpcService"/>, the implementation gRPC calls too. Written by hand because no Connect
/// server library for .NET exists (docs/adr/0008). Grpc.AspNetCore's routes for the same paths accept only
/// gRPC content types (RpcSetup), so every other request of the service's path lands here. Failures are
/// Connect error JSON, never ProblemDetails.
/// </summary>
public static partial class ConnectEndpoints
{
    public const string ServicePath = "/couponlive.v1.CouponService";

    private delegate Task<RpcOutcome<IMessage>> Invoker(CouponRpcService service, IMessage request, ClaimsPrincipal user, CancellationToken ct);

    private sealed record Method(MessageParser Parser, Google.Protobuf.Reflection.MessageDescriptor Request, Invoker Invoke, Action<CouponRpcService, IMessage, bool>? Rejected = null);

    private static readonly Dictionary<string, Method> Methods = new(StringComparer.Ordinal)
    {
        ["CreateCampaign"] = new(CreateCampaignRequest.Parser, CreateCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.CreateCampaignAsync((CreateCampaignRequest)m, u, ct))),
        ["GetCampaign"] = new(GetCampaignRequest.Parser, GetCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.GetCampaignAsync((GetCampaignRequest)m, u, ct))),
        ["IssueCoupon"] = new(IssueCouponRequest.Parser, IssueCouponRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.IssueCouponAsync((IssueCouponRequest)m, u, ct)),
            (s, m, limited) => s.RecordRejectedToken((IssueCouponRequest)m, limited)),
        ["UpdateCampaign"] = new(UpdateCampaignRequest.Parser, UpdateCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.UpdateCampaignAsync((UpdateCampaignRequest)m, u, ct))),
        ["PauseCampaign"] = new(PauseCampaignRequest.Parser, PauseCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.PauseCampaignAsync((PauseCampaignRequest)m, u, ct))),
        ["ResumeCampaign"] = new(ResumeCampaignRequest.Parser, ResumeCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.ResumeCampaignAsync((ResumeCampaignRequest)m, u, ct))),
        ["CancelCampaign"] = new(CancelCampaignRequest.Parser, CancelCampaignRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.CancelCampaignAsync((CancelCampaignRequest)m, u, ct))),
        ["RedeemCoupon"] = new(RedeemCouponRequest.Parser, RedeemCouponRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.RedeemCouponAsync((RedeemCouponRequest)m, u, ct))),
        ["GetCoupon"] = new(GetCouponRequest.Parser, GetCouponRequest.Descriptor,
            async (s, m, u, ct) => Boxed(await s.GetCouponAsync((GetCouponRequest)m, u, ct))),
    };

    private static RpcOutcome<IMessage> Boxed<T>(RpcOutcome<T> outcome) where T : class, IMessage => new(outcome.Value, outcome.Error);

    // Protobuf JSON mapping (int64 as strings, RFC 3339 timestamps); unknown fields are ignored for forward compatibility.
    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static IEndpointRouteBuilder MapConnect(this IEndpointRouteBuilder app)
    {
        app.MapPost(ServicePath + "/{method}", HandleAsync).WithTags("RPC").ExcludeFromDescription();
        return app;
    }

    private static async Task HandleAsync(HttpContext http)
    {
        if (MediaType(http.Request.ContentType) is not ("application/json" or "application/proto"))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }
        var json = MediaType(http.Request.ContentType) == "application/json";
        var services = http.RequestServices;
        try
        {
            var (response, refusal) = await InvokeAsync(http, json, services);
            if (refusal is not null)
            {
                await WriteErrorAsync(http, refusal);
                return;
            }
            var body = json ? Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(response)) : response!.ToByteArray();
            http.Response.ContentType = json ? "application/json" : "application/proto";
            http.Response.ContentLength = body.Length;
            await http.Response.Body.WriteAsync(body, http.RequestAborted);
        }
        catch (Exception ex) when (Http.ProblemExceptionHandler.IsAbandoned(http, ex))
        {
            // The client went away: nobody to answer.
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConnectEndpoints));
            RpcStatusException error;
            if (ex is RpcStatusException rpc) error = rpc;
            else if (DependencyOutage.Is(ex))
            {
                // The store or Redis is down: unavailable with Retry-After, as the issue path's own refusals.
                LogOutage(logger, http.Request.Path, DependencyOutage.Describe(ex));
                error = CouponGrpcService.DependencyUnavailable;
            }
            else
            {
                LogUnhandled(logger, ex, http.Request.Path);
                error = new RpcStatusException(RpcCode.Internal, ErrorCodes.ServerError, "An unexpected error occurred.");
            }
            await WriteErrorAsync(http, error);
        }
    }

    private static async Task WriteErrorAsync(HttpContext http, RpcStatusException error)
    {
        var body = error.ConnectJson;
        http.Response.StatusCode = error.ConnectHttpStatus ?? RpcCodes.ConnectHttpStatus(error.Code);
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        if (error.RetryAfter is { } after) CouponLive.Http.Problems.SetRetryAfter(http.Response, after);
        await http.Response.Body.WriteAsync(body, CancellationToken.None);
    }

    private static async Task<RpcOutcome<IMessage>> InvokeAsync(HttpContext http, bool json, IServiceProvider services)
    {
        var request = http.Request;
        if (request.Headers.ContentEncoding is { Count: > 0 } encoding && encoding.ToString() != "identity")
            return new RpcStatusException(RpcCode.Unimplemented, "rpc.compression_unsupported", "Compressed requests are not supported; send identity encoding.")
            {
                ConnectHttpStatus = StatusCodes.Status415UnsupportedMediaType,
            };

        TimeSpan? timeout = null;
        if (request.Headers["connect-timeout-ms"] is { Count: > 0 } timeoutText)
        {
            if (!RpcWire.TryParseConnectTimeout(timeoutText.ToString(), out var t))
                return new RpcStatusException(RpcCode.InvalidArgument, "rpc.invalid_timeout", "connect-timeout-ms is malformed.");
            if (t <= TimeSpan.Zero) return DeadlineExceeded();
            // Clamped: a timer cannot wait beyond ~49 days, and no call of this service should wait beyond minutes.
            timeout = t < RpcWire.MaxDeadline ? t : RpcWire.MaxDeadline;
        }

        var name = http.Request.RouteValues["method"] as string ?? "";
        if (!Methods.TryGetValue(name, out var method))
            return new RpcStatusException(RpcCode.Unimplemented, "rpc.unknown_method", $"couponlive.v1.CouponService has no method '{name}'.")
            {
                ConnectHttpStatus = StatusCodes.Status404NotFound,
            };

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature) sizeFeature.MaxRequestBodySize = RpcWire.MaxMessageBytes + 1;
        byte[]? body;
        try
        {
            body = await RpcWire.ReadBodyAsync(request.BodyReader, RpcWire.MaxMessageBytes, http.RequestAborted);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException bad) when (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null;
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException bad)
        {
            // Malformed framing (a broken chunk, a body shorter than its length): the client's fault.
            return new RpcStatusException(RpcCode.InvalidArgument, ErrorCodes.BadRequest, "The request body could not be read: " + bad.Message);
        }
        if (body is null)
            return new RpcStatusException(RpcCode.ResourceExhausted, "rpc.message_too_large", $"The message is larger than {RpcWire.MaxMessageBytes} bytes.");

        IMessage message;
        try
        {
            message = json ? Json.Parse(Encoding.UTF8.GetString(body), method.Request) : method.Parser.ParseFrom(body);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException or DecoderFallbackException)
        {
            return new RpcStatusException(RpcCode.InvalidArgument, ErrorCodes.InvalidJson, "The request message could not be decoded: " + ex.Message);
        }

        var service = services.GetRequiredService<CouponRpcService>();
        var (user, refusal) = await CouponGrpcService.AuthenticateAsync(http, method.Rejected is { } rejected ? limited => rejected(service, message, limited) : null);
        if (refusal is not null) return refusal;
        if (timeout is null) return await method.Invoke(service, message, user!, http.RequestAborted);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var call = method.Invoke(service, message, user!, cts.Token);
        try
        {
            // Also bounds work that ignores cancellation (a commit is never cancelled, only no longer awaited).
            return await call.WaitAsync(timeout.Value, services.GetRequiredService<TimeProvider>());
        }
        catch (TimeoutException)
        {
            await cts.CancelAsync();
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            return DeadlineExceeded();
        }
    }

    private static RpcStatusException DeadlineExceeded() =>
        new(RpcCode.DeadlineExceeded, "rpc.deadline_exceeded", "The deadline expired before the call completed.")
        {
            ConnectHttpStatus = StatusCodes.Status408RequestTimeout,
        };

    private static string? MediaType(string? contentType)
    {
        if (contentType is null) return null;
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RPC {Path} answered unavailable: a dependency is unavailable ({Cause})")]
    private static partial void LogOutage(ILogger logger, string path, string cause);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in RPC {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception ex, string path);
}
