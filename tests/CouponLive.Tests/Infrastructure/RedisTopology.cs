using System.Globalization;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// A replicated Redis of a test's own, started by scripts/redis-ha.sh on free loopback ports (a Cluster
/// or a primary with replicas under Sentinel), so a drill can kill its nodes without touching anything
/// else. Stopped (every process killed) when disposed.
/// </summary>
public sealed class RedisTopology : IAsyncDisposable
{
    private RedisTopology(string directory, int basePort, string connectionString)
    {
        Directory = directory;
        BasePort = basePort;
        ConnectionString = connectionString;
    }

    public string Directory { get; }
    public int BasePort { get; }

    /// <summary>What CouponLive's ConnectionStrings:Redis is set to.</summary>
    public string ConnectionString { get; }

    public static async Task<RedisTopology> StartClusterAsync(int primaries = 3, int replicasPerPrimary = 1)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("couponlive-redis-cluster-").FullName;
        var port = FreePorts.Block(primaries * (1 + replicasPerPrimary) + 2); // + room for nodes added later
        var cs = await Shell.ScriptAsync("redis-ha.sh", "cluster", dir, Text(port), Text(primaries), Text(replicasPerPrimary));
        return new RedisTopology(dir, port, LastLine(cs));
    }

    public static async Task<RedisTopology> StartSentinelAsync()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("couponlive-redis-sentinel-").FullName;
        var port = FreePorts.Block(13);
        var cs = await Shell.ScriptAsync("redis-ha.sh", "sentinel", dir, Text(port));
        return new RedisTopology(dir, port, LastLine(cs));
    }

    /// <summary>Starts one more empty cluster node; its port.</summary>
    public async Task<int> AddEmptyNodeAsync(int offset)
    {
        var port = BasePort + offset;
        await Shell.ScriptAsync("redis-ha.sh", "node", Directory, Text(port));
        return port;
    }

    /// <summary>redis-cli against one node of the topology.</summary>
    public static Task<string> CliAsync(int port, params string[] args) =>
        Shell.RunAsync("redis-cli", ["-h", "127.0.0.1", "-p", Text(port), .. args]);

    /// <summary>The port of the cluster primary that serves <paramref name="key"/>'s slot, as node <paramref name="askPort"/> sees it.</summary>
    public async Task<int> PrimaryOfKeyAsync(string key, int? askPort = null)
    {
        var slot = int.Parse(await CliAsync(askPort ?? BasePort, "cluster", "keyslot", key), CultureInfo.InvariantCulture);
        return await PrimaryOfSlotAsync(slot, askPort);
    }

    public async Task<int> PrimaryOfSlotAsync(int slot, int? askPort = null)
    {
        // CLUSTER NODES: id addr@bus flags master ping pong epoch state slot-ranges...
        foreach (var line in (await CliAsync(askPort ?? BasePort, "cluster", "nodes")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            if (!f[2].Contains("master", StringComparison.Ordinal) || f[2].Contains("fail", StringComparison.Ordinal)) continue;
            foreach (var range in f.Skip(8).Where(r => !r.StartsWith('[')))
            {
                var bounds = range.Split('-');
                var from = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                var to = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : from;
                if (slot >= from && slot <= to) return int.Parse(f[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"No primary serves slot {slot}.");
    }

    /// <summary>The Sentinel topology's current primary, as the sentinels see it.</summary>
    public async Task<int> SentinelPrimaryAsync() =>
        int.Parse(await Shell.ScriptAsync("redis-ha.sh", "primary", Directory), CultureInfo.InvariantCulture);

    /// <summary>
    /// The primary each sentinel names now (null for one that does not answer). They agree only some time after a
    /// failover: the sentinel that led it knows at once, the others learn from its announcements (every 2 s).
    /// </summary>
    public async Task<IReadOnlyList<int?>> SentinelViewsAsync()
    {
        var views = new List<int?>();
        for (var i = 10; i <= 12; i++)
        {
            try
            {
                var answer = (await CliAsync(BasePort + i, "sentinel", "get-master-addr-by-name", "couponlive")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                views.Add(answer.Length == 2 && int.TryParse(answer[1].Trim(), CultureInfo.InvariantCulture, out var port) ? port : null);
            }
            catch (InvalidOperationException)
            {
                views.Add(null);
            }
        }
        return views;
    }

    /// <summary>What a node says it is ("master", "slave"), or null when it does not answer.</summary>
    public static async Task<string?> RoleAsync(int port)
    {
        try
        {
            var info = await CliAsync(port, "info", "replication");
            return info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("role:", StringComparison.Ordinal))?["role:".Length..];
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until every sentinel names one primary other than
    /// <paramref name="killed"/> and that node says it is a primary: the failover is complete. The primary.
    /// </summary>
    public async Task<int> WaitForFailoverAsync(int killed, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<int?> views;
        while (true)
        {
            views = await SentinelViewsAsync();
            if (views.Distinct().Count() == 1 && views[0] is { } primary && primary != killed && await RoleAsync(primary) == "master") return primary;
            if (DateTime.UtcNow >= deadline) break;
            await Task.Delay(200);
        }
        throw new TimeoutException($"No failover from {killed} within {timeout.TotalSeconds:F0} s: the sentinels name {string.Join(", ", views.Select(v => v?.ToString(CultureInfo.InvariantCulture) ?? "nothing"))}.");
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until node <paramref name="askPort"/> sees a primary other than
    /// <paramref name="former"/> serving <paramref name="key"/>'s slot (gossip carries a promotion to every node). That primary.
    /// </summary>
    public async Task<int> WaitForNewPrimaryOfKeyAsync(string key, int former, int askPort, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var primary = await PrimaryOfKeyAsync(key, askPort);
                if (primary != former) return primary;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                // no primary serves the slot in this node's view yet
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"Node {askPort} still sees {former} serving {key} after {timeout.TotalSeconds:F0} s.");
            await Task.Delay(200);
        }
    }

    /// <summary>kill -9 of one node: no shutdown, no last writes.</summary>
    public void Kill(int port)
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(Directory, Text(port), "redis.pid")).Trim(), CultureInfo.InvariantCulture);
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        await Shell.ScriptAsync("redis-ha.sh", "down", Directory);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a node still closing its log: the temp folder is left behind
        }
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string LastLine(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
}
