using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace CouponLive.Rpc;

/// <summary>
/// The byte-level rules the Connect adapter needs (Grpc.AspNetCore does gRPC's), kept free of ASP.NET Core
/// so they are unit-tested directly: a bounded body read, connect-timeout-ms, the error JSON, and the
/// google.rpc.Status detail both protocols carry.
/// </summary>
public static class RpcWire
{
    /// <summary>Largest message accepted (gRPC's customary default, which Grpc.AspNetCore applies too).</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>The longest deadline honoured; a longer one is shortened to it (both protocols).</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromMinutes(5);

    public const string ErrorDomain = "couponlive";

    /// <summary>
    /// Reads a whole request body, refusing more than <paramref name="limit"/> bytes (null then)
    /// so an oversized upload is never buffered.
    /// </summary>
    public static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }
            reader.AdvanceTo(buffer.Start, buffer.End); // consumed nothing, examined all: wait for more
        }
    }

    // ---- deadlines ----

    /// <summary>connect-timeout-ms: a positive integer of at most 10 digits. False when malformed.</summary>
    public static bool TryParseConnectTimeout(string? text, out TimeSpan timeout)
    {
        timeout = default;
        if (text is null || text.Length is < 1 or > 10) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        timeout = TimeSpan.FromMilliseconds(long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture));
        return true;
    }

    // ---- error details ----

    public static ErrorInfo ErrorInfo(RpcStatusException error)
    {
        var info = new ErrorInfo { Reason = error.Reason, Domain = ErrorDomain };
        foreach (var (k, v) in error.Metadata) info.Metadata[k] = v;
        return info;
    }

    /// <summary>The google.rpc.RetryInfo of a refusal that says when to retry (whole seconds, as Retry-After).</summary>
    public static RetryInfo? RetryInfo(RpcStatusException error) =>
        error.RetryAfter is { } after
            ? new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(CouponLive.Http.Problems.RetryAfterSeconds(after))) }
            : null;

    /// <summary>The value of grpc-status-details-bin: a google.rpc.Status with the ErrorInfo detail.</summary>
    public static byte[] StatusDetails(RpcStatusException error)
    {
        var status = new Google.Rpc.Status { Code = (int)error.Code, Message = error.StatusMessage };
        status.Details.Add(Any.Pack(ErrorInfo(error)));
        if (RetryInfo(error) is { } retry) status.Details.Add(Any.Pack(retry));
        return status.ToByteArray();
    }

    /// <summary>The Connect error body: {"code","message","details":[{"type","value"}]}.</summary>
    public static byte[] ConnectErrorJson(RpcStatusException error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("code", RpcCodes.ConnectName(error.Code));
            json.WriteString("message", error.StatusMessage);
            json.WriteStartArray("details");
            json.WriteStartObject();
            json.WriteString("type", Google.Rpc.ErrorInfo.Descriptor.FullName);
            json.WriteString("value", Convert.ToBase64String(ErrorInfo(error).ToByteArray()).TrimEnd('='));
            json.WriteEndObject();
            if (RetryInfo(error) is { } retry)
            {
                json.WriteStartObject();
                json.WriteString("type", Google.Rpc.RetryInfo.Descriptor.FullName);
                json.WriteString("value", Convert.ToBase64String(retry.ToByteArray()).TrimEnd('='));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
