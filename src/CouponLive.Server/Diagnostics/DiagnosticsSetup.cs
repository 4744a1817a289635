using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CouponLive.Diagnostics;

/// <summary>
/// One OpenTelemetry metrics pipeline for the CouponLive meter: scraped at /metrics in the Prometheus text
/// format, and pushed over OTLP when Otlp:Endpoint is set.
/// </summary>
public static class DiagnosticsSetup
{
    public static WebApplicationBuilder AddDiagnostics(this WebApplicationBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<CouponMetrics>();
        var otlp = builder.Configuration.GetSection("Otlp").Get<OtlpOptions>() ?? new OtlpOptions();
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("couponlive")).WithMetrics(metrics =>
        {
            metrics.AddMeter(CouponMetrics.MeterName);
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

    /// <summary>/metrics: the Prometheus text exposition format (or OpenMetrics, when the scraper asks for it).</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").ExcludeFromDescription();
        return app;
    }
}
