using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace CouponLive.Rpc;

/// <summary>
/// Looks at a gRPC request's first message header (5 bytes) before Grpc.AspNetCore reads it, without
/// consuming anything. Grpc.AspNetCore handles a compressed flag other than 0 or 1, a declared length of
/// 2 GiB or more, or a "gzip" message that is not gzip, as an unhandled exception: UNKNOWN, logged as a
/// server error. Such a request is refused here as the library refuses its other malformed frames
/// (INTERNAL) or oversized messages (RESOURCE_EXHAUSTED); a compressed message is UNIMPLEMENTED (the
/// messages are a few dozen bytes: compression only adds work).
/// </summary>
public sealed partial class GrpcFrameGuard(RequestDelegate next, ILogger<GrpcFrameGuard> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (!IsGrpc(http.Request.ContentType) || !HttpMethods.IsPost(http.Request.Method))
        {
            await next(http);
            return;
        }
        var reader = http.Request.BodyReader;
        (int Status, string Message)? refusal;
        try
        {
            // Only the first message header is awaited, never the end of the request: a streaming client (server
            // reflection's bidirectional ServerReflectionInfo) sends one message and waits for the answer. A client
            // that goes away after the header is the library's to see; it logs the call as canceled, not as an error.
            var read = await reader.ReadAtLeastAsync(5, http.RequestAborted);
            refusal = Check(read.Buffer, http.Request.Headers["grpc-encoding"].ToString());
            reader.AdvanceTo(read.Buffer.Start); // consumed and examined nothing: the library's first read returns these bytes at once
        }
        catch (Exception ex) when (Http.ProblemExceptionHandler.IsAbandoned(http, ex))
        {
            return; // the client is gone
        }
        if (refusal is null)
        {
            await next(http);
            return;
        }
        LogRefused(http.Request.Path, refusal.Value.Message);
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/grpc";
        http.Response.Headers["grpc-status"] = refusal.Value.Status.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["grpc-message"] = refusal.Value.Message;
    }

    private static (int Status, string Message)? Check(ReadOnlySequence<byte> buffer, string encoding)
    {
        if (buffer.Length < 5) return null; // the library answers an incomplete message itself
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        if (header[0] > 1) return ((int)RpcCode.Internal, "Unexpected compressed flag value in message header.");
        if (header[0] == 1 && encoding.Length > 0 && encoding != "identity")
            return ((int)RpcCode.Unimplemented, $"Compressed messages ({encoding}) are not supported; send identity encoding.");
        var declared = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return declared > RpcWire.MaxMessageBytes
            ? ((int)RpcCode.ResourceExhausted, "Received message exceeds the maximum configured message size.")
            : null;
    }

    private static bool IsGrpc(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused gRPC request {Path}: {Reason}")]
    private partial void LogRefused(string path, string reason);
}
