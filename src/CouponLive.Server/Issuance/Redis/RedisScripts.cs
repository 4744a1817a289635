using System.Collections.Concurrent;
using System.Reflection;
using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Lua scripts shipped as embedded resources, loaded once per server and called by SHA (EVALSHA).
/// A server that forgot them (restart, SCRIPT FLUSH) answers NOSCRIPT: load again and retry once.
/// </summary>
public sealed class RedisScripts(IConnectionMultiplexer redis)
{
    private readonly ConcurrentDictionary<string, (string Source, byte[] Sha)> _loaded = new();

    public async Task<RedisResult> EvaluateAsync(string name, RedisKey[] keys, RedisValue[] values)
    {
        var script = _loaded.TryGetValue(name, out var s) ? s : await LoadAsync(name);
        var db = redis.GetDatabase();
        try
        {
            return await db.ScriptEvaluateAsync(script.Sha, keys, values);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            script = await LoadAsync(name);
            return await db.ScriptEvaluateAsync(script.Sha, keys, values);
        }
    }

    private async Task<(string Source, byte[] Sha)> LoadAsync(string name)
    {
        var source = _loaded.TryGetValue(name, out var known) ? known.Source : ReadResource(name);
        byte[]? sha = null;
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsConnected && !server.IsSlave) sha = await server.ScriptLoadAsync(source);
        }
        if (sha is null) throw new InvalidOperationException("No connected Redis primary to load scripts into.");
        var loaded = (source, sha);
        _loaded[name] = loaded;
        return loaded;
    }

    private static string ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name + ".lua")
            ?? throw new InvalidOperationException($"Missing embedded script {name}.lua");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
