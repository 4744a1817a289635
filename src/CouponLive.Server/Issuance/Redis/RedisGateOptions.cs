using System.ComponentModel.DataAnnotations;

namespace CouponLive.Issuance.Redis;

public sealed class RedisGateOptions
{
    /// <summary>
    /// Most users one admit.lua or grant.lua call may take. Measured on Redis 7.0: a call admitting 3,998 users works and
    /// one admitting 3,999 fails ("too many results to unpack": its XADD unpacks 2 + 2 × users values, and Lua's C stack
    /// holds 8,000); half of that leaves room for a Redis built with other limits and for the scripts to grow.
    /// </summary>
    public const int MaxUsersPerScriptCall = 2_000;

    /// <summary>Prefix of every key, so several deployments (or test runs) can share one Redis.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "Redis:KeyPrefix must be 1-64 letters, digits, '_', '.' or '-'.")]
    public string KeyPrefix { get; set; } = "cl";

    /// <summary>
    /// Most users decided by one script call; concurrent requests for a campaign are coalesced up to this. At most
    /// <see cref="MaxUsersPerScriptCall"/>: admit.lua unpacks two values per admitted user into one XADD, and Redis's Lua
    /// unpacks fewer than 8,000 values at once (LUAI_MAXCSTACK), so a bigger batch fails at the peak of a sale.
    /// </summary>
    [Range(1, MaxUsersPerScriptCall, ErrorMessage = "Redis:MaxBatch must be between 1 and 2,000 users per script call (admit.lua unpacks two values per admitted user, and Redis's Lua fails past about 8,000).")]
    public int MaxBatch { get; set; } = 256;

    /// <summary>
    /// Requests of one campaign that may wait for its next script call. Past this (Redis slow or stalled)
    /// they answer 503 at once: memory stays bounded and clients retry after Retry-After.
    /// </summary>
    [Range(1, 10_000_000, ErrorMessage = "Redis:MaxQueuedPerCampaign must be between 1 and 10,000,000.")]
    public int MaxQueuedPerCampaign { get; set; } = 10_000;

    /// <summary>
    /// How long a campaign's keys outlive its last window (counted from the later of that end and the
    /// keys' load). Expired keys are rebuilt from the store if the campaign is asked for again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "366.00:00:00", ErrorMessage = "Redis:KeyTtlAfterEnd must be between 1 second and 366 days.")]
    public TimeSpan KeyTtlAfterEnd { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often each process checks that the Redis node holding each active campaign is the one that loaded it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Redis:OwnerCheckInterval must be between 100 ms and 1 hour.")]
    public TimeSpan OwnerCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a process answers a user's repeated clicks "sold out" itself after Redis told them so (the late
    /// crowd's clicks skip the script call). Only refusals are remembered, and an operator's change ends them at
    /// once; what it bounds is a stale refusal after stock reopens without one (Redis lost admissions that were
    /// never committed). Long enough to cover a person clicking every second or two; 0 asks Redis every time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Redis:SoldOutMemory must be between 0 and 60 seconds.")]
    public TimeSpan SoldOutMemory { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Starts even when a Redis primary's maxmemory-policy is not noeviction (with a warning). Off by default: an evicting
    /// Redis may drop the gate's holders or outbox under memory pressure, which breaks I2 and I6 without a trace.
    /// </summary>
    public bool AllowEvictionPolicy { get; set; }

    /// <summary>How long a script call keeps retrying TRYAGAIN (a slot migrating mid-call) before the request answers 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30", ErrorMessage = "Redis:TryAgainBudget must be between 0 and 30 seconds.")]
    public TimeSpan TryAgainBudget { get; set; } = TimeSpan.FromSeconds(1);
}
