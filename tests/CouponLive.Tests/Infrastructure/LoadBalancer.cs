using System.Globalization;

namespace CouponLive.Tests.Infrastructure;

/// <summary>nginx in front of server processes (scripts/nginx-lb.sh), on a free loopback port; stopped when disposed.</summary>
public sealed class LoadBalancer : IAsyncDisposable
{
    private readonly string _directory;

    private LoadBalancer(string directory, Uri address)
    {
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<LoadBalancer> StartAsync(IEnumerable<ServerProcess> servers)
    {
        var dir = Directory.CreateTempSubdirectory("couponlive-nginx-").FullName;
        var port = FreePorts.One();
        await Shell.ScriptAsync("nginx-lb.sh", "up", dir, port.ToString(CultureInfo.InvariantCulture), "0",
            string.Join(',', servers.Select(s => s.BaseAddress.Authority)));
        return new LoadBalancer(dir, new Uri($"http://127.0.0.1:{port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await Shell.ScriptAsync("nginx-lb.sh", "down", _directory);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a worker still closing: the temp folder is left behind
        }
    }
}
