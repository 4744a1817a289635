using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CouponLive.LoadTest;

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends a request and reads its answer, one at a time.
/// The tool runs on the same two cores as the service it measures, and HttpClient's request and
/// response objects cost it ~43 µs per issue request, more than the server spends answering; this
/// writes the fixed request bytes and reads the status line, Content-Length or chunked body only.
/// Any transport failure or timeout closes the socket (an answer may still be on its way), and the
/// next request reconnects.
/// </summary>
public sealed class IssueConnection : IDisposable
{
    private const int BufferSize = 16 * 1024;

    private readonly Uri _target;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _stop;
    private readonly CancellationTokenRegistration _onStop;
    private readonly byte[] _send = new byte[BufferSize];
    private readonly byte[] _receive = new byte[BufferSize];
    private readonly byte[] _host;
    private CancellationTokenSource _deadline = new(); // one per connection, reset per request: no allocation per request
    private Socket? _socket;
    private int _start, _end; // unread bytes of _receive

    /// <param name="target">The issue endpoint (absolute http:// URL).</param>
    /// <param name="timeout">How long one request may take.</param>
    /// <param name="stop">Ends the run: cuts off a request in flight (OperationCanceledException).</param>
    public IssueConnection(Uri target, TimeSpan timeout, CancellationToken stop)
    {
        _target = target;
        _timeout = timeout;
        _stop = stop;
        _host = Encoding.ASCII.GetBytes($"Host: {target.Authority}\r\n");
        _onStop = stop.Register(static c => ((IssueConnection)c!).CancelCurrent(), this);
    }

    private void CancelCurrent()
    {
        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Replaced or disposed meanwhile: the next request checks the stop token itself.
        }
    }

    /// <summary>POSTs an empty body to <paramref name="path"/> with the bearer token; the body goes to <paramref name="body"/>.</summary>
    public ValueTask<HttpAnswer> PostAsync(byte[] path, string bearer, byte[] body)
    {
        var n = Append(0, "POST "u8);
        n = Append(n, path);
        n = Append(n, " HTTP/1.1\r\n"u8);
        n = Append(n, _host);
        n = Append(n, "Authorization: "u8);
        n += Encoding.ASCII.GetBytes(bearer, _send.AsSpan(n));
        n = Append(n, "\r\nContent-Length: 0\r\n\r\n"u8);
        return SendAsync(n, body);
    }

    public ValueTask<HttpAnswer> GetAsync(byte[] path, byte[] body)
    {
        var n = Append(0, "GET "u8);
        n = Append(n, path);
        n = Append(n, " HTTP/1.1\r\n"u8);
        n = Append(n, _host);
        n = Append(n, "\r\n"u8);
        return SendAsync(n, body);
    }

    private int Append(int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_send.AsSpan(at));
        return at + bytes.Length;
    }

    private async ValueTask<HttpAnswer> SendAsync(int length, byte[] body)
    {
        if (!_deadline.TryReset())
        {
            _deadline.Dispose();
            _deadline = new CancellationTokenSource();
        }
        _stop.ThrowIfCancellationRequested();
        _deadline.CancelAfter(_timeout);
        var token = _deadline.Token;
        try
        {
            if (_socket is null) await ConnectAsync(token);
            await _socket!.SendAsync(_send.AsMemory(0, length), SocketFlags.None, token);
            return await ReadAnswerAsync(body, token);
        }
        catch (OperationCanceledException)
        {
            Close();
            _stop.ThrowIfCancellationRequested();
            throw new TimeoutException($"no answer within {_timeout.TotalSeconds:N0} s");
        }
        catch
        {
            Close();
            throw;
        }
    }

    private async ValueTask ConnectAsync(CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true }; // dual mode: a name may resolve to IPv4 or IPv6
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(_target.Host, _target.Port), ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _start = _end = 0;
    }

    private async ValueTask<HttpAnswer> ReadAnswerAsync(byte[] body, CancellationToken ct)
    {
        // Status line and headers.
        int headerEnd;
        while ((headerEnd = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0) await FillAsync(ct);
        var head = _receive.AsSpan(_start, headerEnd);
        if (head.Length < 12 || !head.StartsWith("HTTP/1.1 "u8) || !Utf8Parser.TryParse(head.Slice(9, 3), out int status, out _))
            throw new IOException("malformed status line");
        long contentLength = -1;
        var chunked = false;
        var close = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon < 0) continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out _) || contentLength < 0) throw new IOException("malformed Content-Length");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)) chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8)) close = Ascii.EqualsIgnoreCase(value, "close"u8);
        }
        _start += headerEnd + 4;

        var copied = 0;
        if (chunked)
        {
            while (true)
            {
                int lineEnd;
                while ((lineEnd = _receive.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0) await FillAsync(ct);
                var sizeText = _receive.AsSpan(_start, lineEnd);
                var semicolon = sizeText.IndexOf((byte)';');
                if (semicolon >= 0) sizeText = sizeText[..semicolon];
                if (!Utf8Parser.TryParse(sizeText, out int size, out _, 'x')) throw new IOException("malformed chunk size");
                _start += lineEnd + 2;
                if (size == 0)
                {
                    // No trailers are sent by the service: the last chunk ends with an empty line.
                    while (_end - _start < 2) await FillAsync(ct);
                    _start += 2;
                    break;
                }
                copied = await ReadBodyAsync(size, body, copied, ct);
                while (_end - _start < 2) await FillAsync(ct);
                _start += 2; // the chunk's CRLF
            }
        }
        else if (contentLength > 0)
        {
            copied = await ReadBodyAsync(contentLength, body, 0, ct);
        }
        if (close) Close();
        return new HttpAnswer(status, copied);
    }

    /// <summary>Consumes <paramref name="length"/> body bytes, copying what fits after <paramref name="copied"/>.</summary>
    private async ValueTask<int> ReadBodyAsync(long length, byte[] body, int copied, CancellationToken ct)
    {
        while (length > 0)
        {
            if (_end == _start) await FillAsync(ct);
            var n = (int)Math.Min(length, _end - _start);
            var fit = Math.Min(n, body.Length - copied);
            _receive.AsSpan(_start, fit).CopyTo(body.AsSpan(copied));
            copied += fit;
            _start += n;
            length -= n;
        }
        return copied;
    }

    private async ValueTask FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            _receive.AsSpan(_start, _end - _start).CopyTo(_receive);
            (_start, _end) = (0, _end - _start);
        }
        if (_end == _receive.Length) throw new IOException("answer headers larger than the buffer");
        var n = await _socket!.ReceiveAsync(_receive.AsMemory(_end), SocketFlags.None, ct);
        if (n == 0) throw new IOException("the server closed the connection");
        _end += n;
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    public void Dispose()
    {
        _onStop.Dispose();
        Close();
        _deadline.Dispose();
    }
}
