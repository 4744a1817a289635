using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// The service as a real OS process (dotnet CouponLive.Server.dll) on a loopback port, so tests can run
/// several against one Redis and PostgreSQL and kill one with SIGKILL.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public Uri BaseAddress { get; }

    /// <summary>The state (data folder, database) the process runs on.</summary>
    public ServerState State { get; }

    /// <summary>The HTTP/2-only gRPC port (Rpc:GrpcUrl), when started with <c>grpc: true</c>.</summary>
    public Uri? GrpcAddress { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The server's process id (its memory is read from /proc).</summary>
    public int ProcessId => _process.Id;

    private ServerProcess(Process process, ServerState state, Uri baseAddress, Uri? grpcAddress)
    {
        State = state;
        _process = process;
        BaseAddress = baseAddress;
        GrpcAddress = grpcAddress;
    }

    /// <summary>
    /// Starts the process and waits until <paramref name="readyPath"/> answers 200 (/health/live: serving, its
    /// dependencies or not). <paramref name="port"/>: the port of a process it replaces (a restart behind a balancer).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(
        ServerState state, Dictionary<string, string>? settings = null, bool grpc = false, string readyPath = "/health/ready", int? port = null)
    {
        var url = $"http://127.0.0.1:{port ?? FreePort()}";
        var grpcUrl = grpc ? $"http://127.0.0.1:{FreePort()}" : "";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "CouponLive.Server.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url);
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Storage__DataDirectory"] = state.DataDirectory,
            ["Auth__SigningKey"] = TestTokens.SigningKey,
            ["Codes__Key"] = TestTokens.CodeKey,
            ["Admin__Password"] = CouponLiveServer.AdminPassword,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__CouponLive"] = "Information",
            ["Rpc__GrpcUrl"] = grpcUrl,
            ["Shutdown__DrainDelay"] = "00:00:00", // no load balancer to wait for (the shutdown tests and the rolling deploy set their own)
        };
        foreach (var (key, value) in state.ProductionSettings()) env[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        foreach (var (k, v) in settings ?? []) env[k] = v;
        foreach (var (k, v) in env) info.Environment[k] = v;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process, state, new Uri(url), grpc ? new Uri(grpcUrl) : null);
        process.OutputDataReceived += (_, e) => server.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => server.Capture(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitReadyAsync(TimeSpan.FromSeconds(60), readyPath); // a cold start on a busy machine takes seconds
        return server;
    }

    private void Capture(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length > 200_000) _output.Remove(0, 100_000);
            _output.AppendLine(line);
        }
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    private async Task WaitReadyAsync(TimeSpan timeout, string readyPath)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // Exited is seen before the redirected streams are drained: wait for their end, or the reason is lost.
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"Server exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                if ((await client.GetAsync(new Uri(BaseAddress, readyPath))).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Server at {BaseAddress} not ready in {timeout}:\n{Output}");
    }

    /// <summary>
    /// SIGTERM, as a deploy (or Kubernetes) stops a process, without waiting; <see cref="WaitForExitAsync"/> then
    /// says how it ended.
    /// </summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits (bounded) for the process to exit, and its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Server at {BaseAddress} did not exit within {timeout}:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing — a crash at an arbitrary moment.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
