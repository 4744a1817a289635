using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;

namespace CouponLive.Rpc;

/// <summary>
/// The byte-level rules of the two unary protocols, kept free of ASP.NET Core so they are unit-tested
/// directly: gRPC length-prefixed messages, grpc-timeout, percent-encoded grpc-message and
/// grpc-status-details-bin; Connect's connect-timeout-ms and error JSON.
/// </summary>
public static class RpcWire
{
    /// <summary>Largest message accepted or sent (gRPC's customary default).</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    public const int FrameHeaderBytes = 5;
    public const string ErrorDomain = "couponlive";

    // ---- gRPC framing: 1 byte flags (bit 0 = compressed), 4 bytes big-endian length, the message ----

    /// <summary>The single message of a unary gRPC request body; an <see cref="RpcException"/> for anything else.</summary>
    public static ReadOnlyMemory<byte> ReadUnaryFrame(ReadOnlyMemory<byte> body)
    {
        var span = body.Span;
        if (span.Length < FrameHeaderBytes)
            throw new RpcException(RpcCode.Internal, "rpc.invalid_frame", "The request does not contain a complete gRPC message.");
        if ((span[0] & 1) != 0)
            throw new RpcException(RpcCode.Unimplemented, "rpc.compression_unsupported", "Compressed messages are not supported; send identity encoding.");
        var length = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
        if (length > MaxMessageBytes)
            throw new RpcException(RpcCode.ResourceExhausted, "rpc.message_too_large", $"The message is larger than {MaxMessageBytes} bytes.");
        if (span.Length != FrameHeaderBytes + (long)length)
        {
            throw span.Length < FrameHeaderBytes + (long)length
                ? new RpcException(RpcCode.Internal, "rpc.invalid_frame", "The gRPC message is truncated.")
                : new RpcException(RpcCode.Unimplemented, "rpc.not_unary", "A unary call takes exactly one request message.");
        }
        return body.Slice(FrameHeaderBytes, (int)length);
    }

    /// <summary>One uncompressed length-prefixed message.</summary>
    public static byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        if (size > MaxMessageBytes)
            throw new RpcException(RpcCode.ResourceExhausted, "rpc.message_too_large", $"The response is larger than {MaxMessageBytes} bytes.");
        var frame = new byte[FrameHeaderBytes + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)size);
        message.WriteTo(frame.AsSpan(FrameHeaderBytes));
        return frame;
    }

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

    /// <summary>grpc-timeout: 1 to 8 digits and a unit (H M S m u n). False when malformed.</summary>
    public static bool TryParseGrpcTimeout(string? text, out TimeSpan timeout)
    {
        timeout = default;
        if (text is null || text.Length is < 2 or > 9) return false;
        var digits = text.AsSpan(0, text.Length - 1);
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        var value = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        var ticks = text[^1] switch
        {
            'H' => value * TimeSpan.TicksPerHour,
            'M' => value * TimeSpan.TicksPerMinute,
            'S' => value * TimeSpan.TicksPerSecond,
            'm' => value * TimeSpan.TicksPerMillisecond,
            'u' => value * 10,                 // a tick is 100 ns
            'n' => (value + 99) / 100,          // round up: "1n" is a deadline, not "no time at all"
            _ => -1,
        };
        if (ticks < 0) return false;
        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

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

    // ---- grpc-message: UTF-8, every byte outside printable ASCII (and '%' itself) as %XX ----

    public static string PercentEncode(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>The inverse of <see cref="PercentEncode"/>; a malformed escape is kept as it is (the spec's advice).</summary>
    public static string PercentDecode(string encoded)
    {
        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length
                && byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    // ---- error details ----

    public static ErrorInfo ErrorInfo(RpcException error)
    {
        var info = new ErrorInfo { Reason = error.Reason, Domain = ErrorDomain };
        foreach (var (k, v) in error.Metadata) info.Metadata[k] = v;
        return info;
    }

    /// <summary>grpc-status-details-bin: a google.rpc.Status in unpadded base64 (binary metadata).</summary>
    public static string StatusDetailsBin(RpcException error)
    {
        var status = new Google.Rpc.Status { Code = (int)error.Code, Message = error.StatusMessage };
        status.Details.Add(Any.Pack(ErrorInfo(error)));
        return Convert.ToBase64String(status.ToByteArray()).TrimEnd('=');
    }

    /// <summary>The Connect error body: {"code","message","details":[{"type","value"}]}.</summary>
    public static byte[] ConnectErrorJson(RpcException error)
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
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
