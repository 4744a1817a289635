namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// The state a server runs on; pass it to another Start to restart over the same state. Production mode
/// uses the shared test Redis unless <paramref name="Redis"/> names another (a Cluster or Sentinel topology), and
/// PostgreSQL, or MySQL (MariaDB) when <paramref name="MySql"/> is set.
/// </summary>
public sealed record ServerState(string DataDirectory, string? Postgres, string? RedisPrefix, string? Redis = null, string? MySql = null)
{
    public string RedisConnection => Redis ?? TestServices.Redis;

    public bool IsProduction => Postgres is not null || MySql is not null;

    /// <summary>The settings that make a server run on this state's Redis and SQL store (none in embedded mode), in configuration keys.</summary>
    public IEnumerable<KeyValuePair<string, string>> ProductionSettings()
    {
        if (!IsProduction) yield break;
        yield return new(Postgres is not null ? "ConnectionStrings:Postgres" : "ConnectionStrings:MySql", Postgres ?? MySql!);
        yield return new("ConnectionStrings:Redis", RedisConnection);
        yield return new("Redis:KeyPrefix", RedisPrefix!);
    }

    /// <summary>Drops the state's database, if it has one.</summary>
    public async Task DropDatabaseAsync()
    {
        if (Postgres is not null) await TestServices.DropDatabaseAsync(Postgres);
        if (MySql is not null) await TestServices.DropMySqlDatabaseAsync(MySql);
    }
}
