using System.ComponentModel.DataAnnotations;

namespace CouponLive.Diagnostics;

public sealed class OtlpOptions
{
    /// <summary>Collector address, e.g. http://127.0.0.1:4318/v1/metrics (HTTP) or http://127.0.0.1:4317 (gRPC). Unset: no export.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>"http" (OTLP/HTTP protobuf) or "grpc".</summary>
    [RegularExpression("^(http|grpc)$", ErrorMessage = "Otlp:Protocol must be http or grpc.")]
    public string Protocol { get; set; } = "http";

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Otlp:ExportInterval must be between 100 ms and 1 hour.")]
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(10);
}
