using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace CouponLive.Http;

/// <summary>The HTTP stack every feature shares: Kestrel limits, source-generated JSON, ProblemDetails with a stable code, OpenAPI.</summary>
public static class HttpSetup
{
    public const int MaxRequestBodyBytes = 256 * 1024;

    public static WebApplicationBuilder AddHttp(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        });
        var services = builder.Services;
        if (services.All(d => d.ServiceType != typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
        services.Configure<JsonOptions>(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Default));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = AddCode);
        services.AddOpenApi();
        services.AddValidatedOptions<HttpOptions>("Http");
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<HttpOptions>>((forwarded, http) =>
        {
            // The client is the last address a trusted proxy added; loopback proxies stay trusted (the defaults).
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var entry in http.Value.TrustedProxies)
            {
                if (IPAddress.TryParse(entry, out var address)) forwarded.KnownProxies.Add(address);
                else forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(entry));
            }
        });
        return builder;
    }

    public static WebApplication UseHttp(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<CharsetGuard>();
        return app;
    }

    /// <summary>/openapi/v1.json and an interactive page over it at /scalar/v1.</summary>
    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        // The one document by its literal path: any other name is the usual 404 ProblemDetails, not the
        // OpenAPI endpoint's plain-text "not found".
        app.MapOpenApi("/openapi/v1.json");
        app.MapScalarApiReference(o => o.WithTitle("CouponLive API"));
        return app;
    }

    private static void AddCode(ProblemDetailsContext context)
    {
        var extensions = context.ProblemDetails.Extensions;
        if (!extensions.ContainsKey("code"))
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            extensions["code"] = context.HttpContext.Items[Problems.CodeItem] as string ?? Problems.DefaultCode(status);
        }
        extensions["traceId"] = context.HttpContext.TraceIdentifier;
    }
}
