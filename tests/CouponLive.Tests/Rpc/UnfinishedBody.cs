using System.Net;

namespace CouponLive.Tests.Rpc;

/// <summary>
/// A request body that sends its first bytes at once and then never ends until the request is canceled: a client
/// that goes away mid-message. The flush matters: HttpClient holds HTTP/2 request data until the body flushes or ends.
/// </summary>
public sealed class UnfinishedBody(byte[] start) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(start, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        await Task.Delay(TimeSpan.FromMinutes(2), cancellationToken); // bounded, should a test forget to cancel
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
