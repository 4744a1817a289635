using System.ComponentModel.DataAnnotations;
using CouponLive.Issuance.Redis;

namespace CouponLive.Grants;

public sealed class GrantOptions
{
    /// <summary>
    /// Users decided per gate call and per recorded step (one store transaction of outcomes). At most
    /// <see cref="RedisGateOptions.MaxUsersPerScriptCall"/>, as grant.lua unpacks two values per admitted user (Redis's Lua
    /// fails past about 8,000).
    /// </summary>
    [Range(1, RedisGateOptions.MaxUsersPerScriptCall, ErrorMessage = "Grants:ChunkSize must be between 1 and 2,000 (grant.lua unpacks two values per admitted user, and Redis's Lua fails past about 8,000).")]
    public int ChunkSize { get; set; } = 500;

    /// <summary>How long a process may hold a grant before another takes it over (its lease lapses if the process dies).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Grants:LeaseTime must be between 1 second and 10 minutes.")]
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often unfinished grants are looked for (a new grant in this process starts at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Grants:PollInterval must be between 50 ms and 1 minute.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
