using System.ComponentModel.DataAnnotations;
using CouponLive.Lifecycle;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CouponLive.Diagnostics;

/// <summary>
/// Health endpoints, and one OpenTelemetry metrics pipeline for the CouponLive meter: scraped at /metrics in
/// the Prometheus text format, and pushed over OTLP when Otlp:Endpoint is set.
/// </summary>
public static class DiagnosticsSetup
{
    public static WebApplicationBuilder AddDiagnostics(this WebApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<CouponMetrics>();
        builder.Services.AddHealthChecks();
        // Read here, once: the exporter is configured while the pipeline is built.
        var otlp = builder.Configuration.GetSection("Otlp").Get<OtlpOptions>() ?? new OtlpOptions();
        Validator.ValidateObject(otlp, new ValidationContext(otlp), validateAllProperties: true);
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("couponlive")).WithMetrics(metrics =>
        {
            metrics.AddMeter(CouponMetrics.MeterName);
            // The runtime's own gauges (memory, GC, thread pool): what an operator checks when a queue or a heap grows.
            metrics.AddMeter("System.Runtime");
            // Gauges named "*.count" read as broken counters in Prometheus (promtool refuses them); not needed here.
            foreach (var name in (string[])["dotnet.assembly.count", "dotnet.process.cpu.count", "dotnet.timer.count"])
                metrics.AddView(name, MetricStreamConfiguration.Drop);
            // Every scrape sees the counts of that moment (the exporter would otherwise serve a copy up to 300 ms old).
            metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            if (otlp.Endpoint is null) return;
            metrics.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = otlp.Endpoint;
                exporter.Protocol = otlp.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.ExportInterval.TotalMilliseconds;
            });
        });
        return builder;
    }

    /// <summary>
    /// /health/live (the process answers), /health/startup (it has initialized and started), /health/ready (it
    /// takes new requests: started and not stopping), /health/dependencies (the shared store and Redis answer: for
    /// operators, not for a load balancer, which would take every instance out at once during their outage),
    /// /metrics (the Prometheus text format, or OpenMetrics when the scraper asks for it).
    /// </summary>
    public static IEndpointRouteBuilder MapDiagnostics(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/startup", new() { Predicate = c => c.Tags.Contains(LifecycleSetup.StartupTag) });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains(LifecycleSetup.ReadyTag) });
        app.MapHealthChecks("/health/dependencies", new() { Predicate = c => c.Tags.Contains(LifecycleSetup.DependencyTag) });
        // The exporter's endpoint takes any method; a scrape is a GET (HEAD for a probe). Routing then answers every
        // other method 405 with Allow, as for any route, and the status code pages make that a ProblemDetails.
        app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).ExcludeFromDescription();
        return app;
    }
}
