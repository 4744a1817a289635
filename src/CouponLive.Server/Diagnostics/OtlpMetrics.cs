using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace CouponLive.Diagnostics;

public sealed class OtlpOptions
{
    /// <summary>Collector address, e.g. http://127.0.0.1:4318/v1/metrics (HTTP) or http://127.0.0.1:4317 (gRPC). Unset: no export.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>"http" (OTLP/HTTP protobuf) or "grpc".</summary>
    public string Protocol { get; set; } = "http";

    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Pushes the CouponLive meter to an OpenTelemetry collector when Otlp:Endpoint is set. Built directly
/// on the SDK (OpenTelemetry.Extensions.Hosting does not restore here); disposed with the container.
/// </summary>
public sealed class OtlpMetrics(MeterProvider provider) : IDisposable
{
    public static OtlpMetrics? Create(OtlpOptions options)
    {
        if (options.Endpoint is null) return null;
        var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(CouponMetrics.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = options.Endpoint;
                exporter.Protocol = options.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.ExportInterval.TotalMilliseconds;
            })
            .Build();
        return new OtlpMetrics(provider);
    }

    public void Dispose() => provider.Dispose();
}
