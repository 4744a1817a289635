using System.Reflection;
using StackExchange.Redis;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// The gate's Lua scripts (embedded resources) and how they are called. StackExchange.Redis loads a
/// script into whichever node serves the call (SCRIPT LOAD on first use there, EVALSHA after) and
/// sends it again when a node answers NOSCRIPT (a restart, SCRIPT FLUSH, a promoted replica); it
/// follows MOVED and ASK redirects. Two things are done here: calls demand a primary (a replica would
/// answer READONLY), and TRYAGAIN, the answer to a multi-key call while its slot migrates, is retried
/// for a moment before the request gives up with 503.
/// </summary>
public sealed class RedisScripts(IConnectionMultiplexer redis, IOptions<RedisGateOptions> gateOptions, TimeProvider time)
{
    private readonly RedisGateOptions _options = gateOptions.Value;

    public static readonly string Admit = Read("admit");
    public static readonly string LoadMeta = Read("load-meta");
    public static readonly string CheckOwner = Read("check-owner");
    public static readonly string Change = Read("change");
    public static readonly string Grant = Read("grant");
    public static readonly string Settle = Read("settle");

    public Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[]? values = null) =>
        RetryTryAgainAsync(db => db.ScriptEvaluateAsync(script, keys, values, CommandFlags.DemandMaster));

    /// <summary>Runs a gate command, retrying TRYAGAIN with short pauses within <see cref="RedisGateOptions.TryAgainBudget"/>.</summary>
    public async Task<T> RetryTryAgainAsync<T>(Func<IDatabase, Task<T>> command)
    {
        var db = redis.GetDatabase();
        var started = time.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            try
            {
                return await command(db);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
                                                  && time.GetElapsedTime(started) + pause < _options.TryAgainBudget)
            {
                await Task.Delay(pause, time);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
            }
        }
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name + ".lua")
            ?? throw new InvalidOperationException($"Missing embedded script {name}.lua");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
