using System.Net;
using System.Net.Sockets;
using System.Text;
using CouponLive.LoadTest;

namespace CouponLive.Tests.LoadTool;

/// <summary>The load tool's HTTP/1.1 connection against a loopback peer that answers with scripted bytes.</summary>
public sealed class IssueConnectionTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<string> _requests = [];

    public IssueConnectionTests() => _listener.Start();

    private Uri Target => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Accepts connections in turn; for each request read, writes the next answer in pieces of <paramref name="piece"/> bytes.</summary>
    private Task ServeAsync(int piece, params string?[] answers) => Task.Run(async () =>
    {
        var next = 0;
        while (next < answers.Length)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[8192];
            while (next < answers.Length)
            {
                var request = new StringBuilder();
                while (!request.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await stream.ReadAsync(buffer);
                    if (n == 0) break;
                    request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                if (request.Length == 0) break; // the client closed this connection: accept the next one
                lock (_requests) _requests.Add(request.ToString());
                var answer = answers[next++];
                if (answer is null) break; // hang up without answering
                var bytes = Encoding.UTF8.GetBytes(answer);
                for (var at = 0; at < bytes.Length; at += piece)
                {
                    await stream.WriteAsync(bytes.AsMemory(at, Math.Min(piece, bytes.Length - at)));
                    await stream.FlushAsync();
                    if (piece < bytes.Length) await Task.Delay(1);
                }
                if (answer.Contains("Connection: close", StringComparison.Ordinal)) break;
            }
        }
    });

    private static string Body(byte[] buffer, HttpAnswer answer) => Encoding.UTF8.GetString(buffer, 0, answer.BodyLength);

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task Reads_length_and_chunked_answers_in_any_pieces_on_one_connection(int piece)
    {
        const string created = "{\"code\":\"가나다라마바사아자차\"}";
        var server = ServeAsync(piece,
            $"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(created)}\r\n\r\n{created}",
            "HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n7;ext=1\r\n\"sold\"}\r\n0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n");
        using var connection = new IssueConnection(Target, TimeSpan.FromSeconds(5), CancellationToken.None);
        var body = new byte[256];
        var path = "/api/v1/campaigns/7/issue"u8.ToArray();

        var first = await connection.PostAsync(path, "Bearer t1", body);
        Assert.Equal((201, created), (first.Status, Body(body, first)));
        var second = await connection.PostAsync(path, "Bearer t2", body);
        Assert.Equal((409, "{\"a\":\"sold\"}"), (second.Status, Body(body, second)));
        var third = await connection.GetAsync("/health/live"u8.ToArray(), body);
        Assert.Equal((204, 0), (third.Status, third.BodyLength));
        await server;

        Assert.Equal(3, _requests.Count); // all on one connection (the server accepted once)
        Assert.StartsWith("POST /api/v1/campaigns/7/issue HTTP/1.1\r\nHost: 127.0.0.1:", _requests[0]);
        Assert.Contains("\r\nAuthorization: Bearer t1\r\nContent-Length: 0\r\n\r\n", _requests[0]);
        Assert.Contains("Authorization: Bearer t2", _requests[1]);
        Assert.StartsWith("GET /health/live HTTP/1.1\r\n", _requests[2]);
    }

    [Fact]
    public async Task A_body_larger_than_the_buffer_is_consumed_and_the_connection_stays_usable()
    {
        var big = new string('x', 40_000);
        var server = ServeAsync(8192, $"HTTP/1.1 200 OK\r\nContent-Length: {big.Length}\r\n\r\n{big}", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var connection = new IssueConnection(Target, TimeSpan.FromSeconds(5), CancellationToken.None);
        var body = new byte[100];
        var first = await connection.GetAsync("/a"u8.ToArray(), body);
        Assert.Equal((200, 100), (first.Status, first.BodyLength));
        var second = await connection.GetAsync("/b"u8.ToArray(), body);
        Assert.Equal("ok", Body(body, second));
        await server;
    }

    [Fact]
    public async Task A_hang_up_is_a_transport_error_and_the_next_request_reconnects()
    {
        var server = ServeAsync(4096, null, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        using var connection = new IssueConnection(Target, TimeSpan.FromSeconds(5), CancellationToken.None);
        var body = new byte[16];
        await Assert.ThrowsAsync<IOException>(async () => await connection.GetAsync("/a"u8.ToArray(), body));
        var retried = await connection.GetAsync("/b"u8.ToArray(), body);
        Assert.Equal((200, "ok"), (retried.Status, Body(body, retried)));
        await server;
    }

    [Fact]
    public async Task No_answer_in_time_is_a_timeout_and_the_run_stop_cuts_a_request_off()
    {
        var silent = Task.Run(async () =>
        {
            using var a = await _listener.AcceptTcpClientAsync();
            using var b = await _listener.AcceptTcpClientAsync();
            await Task.Delay(3000);
        });
        using (var connection = new IssueConnection(Target, TimeSpan.FromMilliseconds(300), CancellationToken.None))
        {
            await Assert.ThrowsAsync<TimeoutException>(async () => await connection.GetAsync("/slow"u8.ToArray(), new byte[16]));
        }
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        using (var connection = new IssueConnection(Target, TimeSpan.FromSeconds(30), stop.Token))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.GetAsync("/slow"u8.ToArray(), new byte[16]));
        }
        await silent;
    }

    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
