using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// The gate's keys must never be evicted: a holders hash or outbox Redis drops under memory pressure silently breaks
/// I2 (a holder admitted again) and I6 (admissions never committed, their stock stranded). So every primary the
/// connection reaches must run with maxmemory-policy noeviction. At start anything else refuses to start unless
/// <see cref="OverrideSetting"/> is set (then a loud warning); a node unreachable at start (the service starts anyway and
/// answers 503 until it is back) is checked once it connects, and every node again after a reconnect or a topology
/// change (a failover), with an error logged, since the service cannot refuse to start by then.
/// The policy is read with CONFIG GET, or from INFO memory where CONFIG is renamed, disabled or refused, over a short-lived
/// connection of its own in admin mode (StackExchange.Redis sends neither command otherwise; the gate's connection stays
/// without it).
/// </summary>
public sealed partial class RedisEvictionPolicyCheck(
    ServerSettings settings,
    IConnectionMultiplexer redis,
    IOptions<RedisGateOptions> options,
    ILogger<RedisEvictionPolicyCheck> logger) : IDisposable
{
    public const string OverrideSetting = "Redis:AllowEvictionPolicy";
    private const string NoEviction = "noeviction";

    // The policy last reported per node, so a recheck logs what changed, not every node again.
    private readonly ConcurrentDictionary<string, string> _reported = new(StringComparer.Ordinal);
    private int _rechecks; // 0 idle, 1 running, 2 running and asked again meanwhile

    private bool Allowed => options.Value.AllowEvictionPolicy;

    /// <summary>Checks the primaries reachable now; throws, naming the node and the policy, when one may evict (and that is not allowed).</summary>
    public async Task CheckAtStartAsync()
    {
        redis.ConnectionRestored += OnConnectionRestored;
        redis.ConfigurationChanged += OnConfigurationChanged;
        List<(string Node, string? Policy, string? Failure)> primaries;
        List<string> unreachable;
        try
        {
            (primaries, unreachable) = await ReadAsync();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Not even the topology could be learnt (sentinels away): checked once the gate's connection is up.
            (primaries, unreachable) = ([], [settings.RedisConnection! + " (" + ex.Message + ")"]);
        }
        var refused = new List<string>();
        foreach (var (node, policy, failure) in primaries)
        {
            if (policy is null)
            {
                LogPolicyUnknown(node, failure ?? "no maxmemory_policy in INFO memory");
                continue;
            }
            _reported[node] = policy;
            if (policy == NoEviction) continue;
            if (Allowed) LogEvictionAllowed(node, policy, OverrideSetting);
            else refused.Add($"Redis node {node} has maxmemory-policy {policy}");
        }
        if (unreachable.Count > 0) LogDeferred(string.Join(", ", unreachable));
        if (refused.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join("; ", refused)}. The admission gate's keys must never be evicted (an evicted holders hash or outbox "
                + $"breaks I2 and I6): set maxmemory-policy {NoEviction} on every primary, or set {OverrideSetting}=true to start anyway.");
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive) return;
        _reported.TryRemove(Name(e.EndPoint), out _); // a node back (maybe restarted with another config) is reported afresh
        RequestRecheck();
    }

    private void OnConfigurationChanged(object? sender, EndPointEventArgs e) => RequestRecheck();

    /// <summary>Coalesces a burst of events (both connections of a node, then the topology) into one or two rechecks.</summary>
    private void RequestRecheck()
    {
        while (true)
        {
            var state = Volatile.Read(ref _rechecks);
            if (state == 2) return;
            if (Interlocked.CompareExchange(ref _rechecks, state + 1, state) != state) continue;
            if (state == 0) _ = Task.Run(RecheckLoopAsync);
            return;
        }
    }

    private async Task RecheckLoopAsync()
    {
        do
        {
            try
            {
                var (primaries, _) = await ReadAsync();
                foreach (var (node, policy, _) in primaries)
                {
                    if (policy is null || (_reported.TryGetValue(node, out var known) && known == policy)) continue;
                    _reported[node] = policy;
                    if (policy == NoEviction) LogChecked(node);
                    else if (Allowed) LogEvictionAllowed(node, policy, OverrideSetting);
                    else LogEvictionFound(node, policy, OverrideSetting);
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogRecheckFailed(ex.Message); // the next reconnect or topology change asks again
            }
        }
        while (Interlocked.Decrement(ref _rechecks) > 0);
    }

    /// <summary>Each reachable primary with its policy (null and why when it could not be read), and the nodes not reachable.</summary>
    private async Task<(List<(string Node, string? Policy, string? Failure)> Primaries, List<string> Unreachable)> ReadAsync()
    {
        var config = ConfigurationOptions.Parse(settings.RedisConnection!);
        config.AllowAdmin = true; // CONFIG and INFO need it; this connection sends nothing else
        config.AbortOnConnectFail = false;
        config.ClientName = "couponlive-settings-check";
        if (!settings.RedisConnection!.Contains("connectTimeout=", StringComparison.OrdinalIgnoreCase)) config.ConnectTimeout = 1_000;
        var primaries = new List<(string, string?, string?)>();
        var unreachable = new List<string>();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(config);
        foreach (var server in admin.GetServers())
        {
            if (!server.IsConnected) unreachable.Add(Name(server.EndPoint));
            else if (!server.IsReplica) primaries.Add(await PolicyOfAsync(server));
        }
        return (primaries, unreachable);
    }

    private static async Task<(string, string?, string?)> PolicyOfAsync(IServer server)
    {
        var node = Name(server.EndPoint);
        try
        {
            if (await server.ConfigGetAsync("maxmemory-policy") is [var pair, ..]) return (node, pair.Value, null);
        }
        catch (RedisServerException)
        {
            // CONFIG renamed, disabled or refused by an ACL: INFO tells the policy too.
        }
        try
        {
            var info = await server.InfoAsync("memory");
            return (node, info.SelectMany(g => g).Where(p => p.Key == "maxmemory_policy").Select(p => p.Value).FirstOrDefault(), null);
        }
        catch (RedisServerException ex)
        {
            return (node, null, ex.Message);
        }
    }

    private static string Name(EndPoint? endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        null => "unknown",
        _ => endpoint.ToString() ?? "unknown",
    };

    public void Dispose()
    {
        redis.ConnectionRestored -= OnConnectionRestored;
        redis.ConfigurationChanged -= OnConfigurationChanged;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Redis node {Node} has maxmemory-policy {Policy}, not noeviction: under memory pressure Redis may evict the admission gate's keys (holders, outbox), which can admit a holder twice (I2) or strand admitted coupons (I6). Running anyway because {Setting} is true.")]
    private partial void LogEvictionAllowed(string node, string policy, string setting);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Redis node {Node} has maxmemory-policy {Policy}, not noeviction: under memory pressure Redis may evict the admission gate's keys (holders, outbox), which can admit a holder twice (I2) or strand admitted coupons (I6). Set maxmemory-policy noeviction on it (CONFIG SET and its redis.conf); {Setting}=true accepts the risk.")]
    private partial void LogEvictionFound(string node, string policy, string setting);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis node(s) {Nodes} unreachable at start: their maxmemory-policy is checked once they connect")]
    private partial void LogDeferred(string nodes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis node {Node}: maxmemory-policy noeviction")]
    private partial void LogChecked(string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the maxmemory-policy of Redis node {Node} ({Reason}); make sure it is noeviction")]
    private partial void LogPolicyUnknown(string node, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the maxmemory-policy of the Redis nodes failed: {Reason}")]
    private partial void LogRecheckFailed(string reason);
}
