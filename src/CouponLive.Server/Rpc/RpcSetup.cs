using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CouponLive.Rpc;

/// <summary>
/// The RPC feature: couponlive.v1.CouponService over gRPC (Grpc.AspNetCore, with server reflection and
/// grpc.health.v1) and over Connect, both on <see cref="CouponRpcService"/>. gRPC gets an extra
/// HTTP/2-only port (Rpc:GrpcUrl), since Kestrel speaks cleartext HTTP/2 only where HTTP/1.1 is off.
/// </summary>
public static class RpcSetup
{
    /// <summary>Where gRPC (and Connect over HTTP/2) listens when Rpc:GrpcUrl is not set; an empty setting turns the port off.</summary>
    public const string DefaultGrpcUrl = "http://127.0.0.1:8081";

    private static readonly AcceptsMetadata GrpcMediaTypes = new(["application/grpc", "application/grpc+proto"]);

    public static WebApplicationBuilder AddRpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CouponRpcService>();
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = RpcWire.MaxMessageBytes);
        builder.Services.AddGrpcReflection();
        // grpc.health.v1 reports the same readiness as /health/ready (the store, and Redis in production mode).
        builder.Services.AddGrpcHealthChecks(o => o.Services.Map("", r => r.Tags.Contains(Lifecycle.LifecycleSetup.ReadyTag)));

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

    /// <summary>The guard in front of Grpc.AspNetCore's message reader (see <see cref="GrpcFrameGuard"/>).</summary>
    public static WebApplication UseRpc(this WebApplication app)
    {
        app.UseMiddleware<GrpcFrameGuard>();
        return app;
    }

    public static IEndpointRouteBuilder MapRpc(this IEndpointRouteBuilder app)
    {
        // The content type picks gRPC or Connect where both serve the same path.
        app.MapGrpcService<CouponGrpcService>().WithMetadata(GrpcMediaTypes);
        app.MapGrpcReflectionService().WithMetadata(GrpcMediaTypes);
        app.MapGrpcHealthChecksService().WithMetadata(GrpcMediaTypes);
        app.MapConnect();
        return app;
    }
}
