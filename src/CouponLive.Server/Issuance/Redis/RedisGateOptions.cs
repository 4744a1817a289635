namespace CouponLive.Issuance.Redis;

public sealed class RedisGateOptions
{
    /// <summary>Prefix of every key, so several deployments (or test runs) can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "cl";

    /// <summary>Most users decided by one script call; concurrent requests for a campaign are coalesced up to this.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>
    /// Sequence numbers skipped when a campaign is rebuilt after sales began: admissions still in flight from
    /// before the rebuild keep their numbers, so a number never names two coupons.
    /// </summary>
    public long SequenceGapOnRebuild { get; set; } = 1 << 16;

    /// <summary>
    /// How long a campaign's keys outlive its last window (counted from the later of that end and the
    /// keys' load). Expired keys are rebuilt from the store if the campaign is asked for again.
    /// </summary>
    public TimeSpan KeyTtlAfterEnd { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often each process checks that the Redis node holding each active campaign is the one that loaded it.</summary>
    public TimeSpan OwnerCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a script call keeps retrying TRYAGAIN (a slot migrating mid-call) before the request answers 503.</summary>
    public TimeSpan TryAgainBudget { get; set; } = TimeSpan.FromSeconds(1);
}
