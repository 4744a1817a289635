namespace CouponLive.Tests.Robustness;

/// <summary>
/// One generated request. <see cref="Protocol"/> says how its answer is judged; <see cref="MalformedMessage"/>
/// marks a gRPC request whose payload is not a valid message (gRPC's own INTERNAL is the standard answer there).
/// </summary>
public sealed record FuzzCase(
    string Protocol,
    string Method,
    string Path,
    byte[]? Body,
    string? ContentType,
    IReadOnlyList<(string Name, string Value)> Headers,
    string Description,
    bool MalformedMessage = false);
