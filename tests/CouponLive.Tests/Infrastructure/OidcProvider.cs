using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// tests/oidc/provider.mjs (oidc-provider) as a process on a loopback port: discovery, JWKS, and JWT access tokens for
/// its clients (alice, bob, checkout, operator) by the client-credentials grant. Its private keys stay in a folder of
/// its own, so a restart can rotate them or keep them.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string Audience = "urn:couponlive:api";

    private readonly string _keys = Path.Combine(Path.GetTempPath(), $"couponlive-oidc-{Guid.NewGuid():N}");
    private readonly StringBuilder _output = new();
    private Process? _process;

    public int Port { get; } = FreePorts.One();
    public string Issuer => $"http://127.0.0.1:{Port}";

    /// <summary>How many times the key set was fetched since the process started.</summary>
    public int KeySetRequests
    {
        get
        {
            lock (_output) return _output.ToString().Split('\n').Count(l => l.Trim() == "JWKS");
        }
    }

    /// <summary>Starts (or restarts) the provider signing with the first of <paramref name="keys"/> ("kid:alg") and publishing all.</summary>
    public async Task StartAsync(params string[] keys)
    {
        await StopAsync();
        Directory.CreateDirectory(_keys);
        var info = new ProcessStartInfo("node") { WorkingDirectory = Path.Combine(TestServices.RepoRoot(), "tests", "oidc"), RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("provider.mjs");
        info.Environment["PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["AUDIENCE"] = Audience;
        info.Environment["KEYS_DIR"] = _keys;
        info.Environment["KEYS"] = string.Join(',', keys);
        lock (_output) _output.Clear();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (e.Data.StartsWith("READY", StringComparison.Ordinal)) ready.TrySetResult();
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_output) _output.AppendLine(e.Data);
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>An access token of <paramref name="client"/> by the client-credentials grant.</summary>
    public async Task<string> TokenAsync(string client)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "coupons" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client}:{client}-secret")));
        var response = await http.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return body["access_token"]?.GetValue<string>() ?? throw new InvalidOperationException($"no token for {client}: {body}");
    }

    /// <summary>The private key (JWK) with this kid, to mint tokens the provider would not (expired, another audience).</summary>
    public string PrivateJwk(string kid) => File.ReadAllText(Path.Combine(_keys, kid + ".json"));

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(_keys)) Directory.Delete(_keys, recursive: true);
    }
}
