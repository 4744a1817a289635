using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// One multiplexer for the process. The connection string alone chooses the topology: one Redis
/// ("host:port"), a Redis Cluster (any of its nodes; the client discovers the rest and follows
/// redirects and failovers), or a primary under Sentinel ("sentinel1:26379,...,serviceName=name").
/// </summary>
public static class RedisConnection
{
    public static ConnectionMultiplexer Connect(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        // Start even while Redis is away: requests answer 503 until it is back.
        options.AbortOnConnectFail = false;
        // While a node is unreachable (killed, failing over) a call fails at once and its request answers
        // 503 with Retry-After; held in the client's backlog it would wait out the whole timeout instead.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        // A reconnect attempt to a dead node bounds how long a call can wait; loopback and a data centre
        // connect in well under this. An explicit connectTimeout in the string wins.
        if (!connectionString.Contains("connectTimeout=", StringComparison.OrdinalIgnoreCase)) options.ConnectTimeout = 1_000;
        // A crowd is waiting: after an outage, try to reconnect every half second (checked on each heartbeat)
        // rather than backing off, so the sale serves again within a second of Redis's return.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
        options.ReconnectRetryPolicy = new LinearRetry(500);
        return ConnectionMultiplexer.Connect(options);
    }
}
