namespace CouponLive.Diagnostics;

public sealed class OtlpOptions
{
    /// <summary>Collector address, e.g. http://127.0.0.1:4318/v1/metrics (HTTP) or http://127.0.0.1:4317 (gRPC). Unset: no export.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>"http" (OTLP/HTTP protobuf) or "grpc".</summary>
    public string Protocol { get; set; } = "http";

    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(10);
}
