namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// The state a server runs on; pass it to another Start to restart over the same state. Production mode
/// uses the shared test Redis unless <paramref name="Redis"/> names another (a Cluster or Sentinel topology).
/// </summary>
public sealed record ServerState(string DataDirectory, string? Postgres, string? RedisPrefix, string? Redis = null)
{
    public string RedisConnection => Redis ?? TestServices.Redis;
}
