using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CouponLive.Http;

/// <summary>
/// Writes a small JSON answer encoded synchronously into this thread's buffer and sent with a
/// Content-Length: no async serializer pass and no chunked body. For the issue endpoint's answers,
/// which an event sends tens of thousands of times a second.
/// </summary>
public static class BufferedJson
{
    /// <summary>The encoder of ASP.NET Core's HTTP JSON options, so text is escaped as in the service's other answers.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_json;

    public static Task WriteAsync<TState>(HttpContext http, int status, string contentType, TState state, Action<Utf8JsonWriter, TState> write)
    {
        // Encoded into this thread's buffer, then copied into the response pipe before any await.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var json = t_json ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder });
        json.Reset(buffer);
        write(json, state);
        json.Flush();

        var response = http.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        json.Reset(); // drop the buffer reference until the next answer on this thread
        var flush = response.BodyWriter.FlushAsync();
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }
}
