using System.Data.Common;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace CouponLive;

/// <summary>
/// Whether an exception says a dependency (the SQL store, Redis) is unavailable now rather than that the
/// code is wrong. The one rule every transport uses: such a failure answers 503 with Retry-After (RPC:
/// UNAVAILABLE with RetryInfo) and is logged as a warning, never a 500. The exception and its inner ones are
/// looked at, since drivers and callers wrap the cause (an NpgsqlException around an IOException, a
/// MySqlException around an end of stream). The client's own broken request is never an outage: callers
/// check for an abandoned request first, and a Kestrel or bad-request exception in the chain ends the search.
/// </summary>
public static class DependencyOutage
{
    // What each driver raises when its server is stopped or its file is busy, seen by stopping them
    // (tests/CouponLive.Tests/Faults/StoppedDependencyDrill.cs): Npgsql: NpgsqlException (IsTransient; inner
    // SocketException ConnectionRefused or EndOfStreamException), PostgresException 57P03 while it starts;
    // MySqlConnector: MySqlException UnableToConnectToHost (IsTransient), and on a pooled connection a
    // MySqlException that is not transient around a MySqlEndOfStreamException (an IOException); SQLite:
    // SqliteException 5 (busy) or 6 (locked), not transient; StackExchange.Redis: RedisConnectionException.
    private static readonly string[] DriverAssemblies = ["Npgsql", "MySqlConnector", "Microsoft.Data.Sqlite", "StackExchange.Redis"];

    // Redis's refusals that mean "not now" (a replica promoted, a dataset loading, a slot moving, a script
    // running, its connections used up) rather than a wrong command; as the client classifies them, and as the
    // first word of the error when it did not.
    private static readonly RedisErrorKind[] RedisUnavailableKinds =
    [
        RedisErrorKind.Loading, RedisErrorKind.ReadOnly, RedisErrorKind.MasterDown, RedisErrorKind.ClusterDown, RedisErrorKind.TryAgain,
        RedisErrorKind.NoReplicas, RedisErrorKind.Busy, RedisErrorKind.MaxClients, RedisErrorKind.ConnectionFault, RedisErrorKind.Timeout,
    ];

    private static readonly string[] RedisUnavailablePrefixes = ["LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOREPLICAS", "BUSY"];

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    // Deep enough for any wrapping seen; bounded against a cycle.
    private const int MaxDepth = 8;

    /// <summary>True when the exception, or one it wraps, means a dependency is unavailable now.</summary>
    public static bool Is(Exception exception) => Find(exception) is not null;

    /// <summary>The exception of the chain that shows the outage (for the log), or null when it is none.</summary>
    public static Exception? Find(Exception exception) => Find(exception, 0);

    /// <summary>"Type: first line of its message" of the outage, for a warning that says which dependency failed how.</summary>
    public static string Describe(Exception exception)
    {
        var cause = Find(exception) ?? exception;
        var message = cause.Message;
        var newline = message.IndexOfAny(['\r', '\n']);
        if (newline >= 0) message = message[..newline];
        if (message.Length > 200) message = message[..200];
        return cause.GetType().Name + ": " + message;
    }

    private static Exception? Find(Exception exception, int depth)
    {
        if (depth > MaxDepth || IsTheClients(exception)) return null;
        if (IsOutage(exception)) return exception;
        if (exception is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions)
                if (Find(inner, depth + 1) is { } found) return found;
            return null;
        }
        return exception.InnerException is { } next ? Find(next, depth + 1) : null;
    }

    // The request's own connection or body (Kestrel's exceptions; BadHttpRequestException is an IOException).
    private static bool IsTheClients(Exception exception) =>
        exception is BadHttpRequestException or ConnectionAbortedException or ConnectionResetException
        || exception.Source?.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) == true;

    private static bool IsOutage(Exception exception) => exception switch
    {
        Issuance.StoreUnavailableException => true,
        // The circuit is open, or Polly gave up waiting: the dependency was found failing a moment ago.
        BrokenCircuitException or Polly.Timeout.TimeoutRejectedException => true,
        RedisConnectionException => true,
        RedisServerException redis => Array.IndexOf(RedisUnavailableKinds, redis.Kind) >= 0
            || redis.Kind is RedisErrorKind.None or RedisErrorKind.Unknown or RedisErrorKind.UnknownError && IsUnavailableReply(redis.Message),
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked || sqlite.IsTransient,
        MySqlConnector.MySqlException mysql => mysql.IsTransient || mysql.ErrorCode is MySqlConnector.MySqlErrorCode.ServerShutdown,
        DbException { IsTransient: true } => true,
        // RedisTimeoutException is one; so is a wait bounded by the service's own timeouts.
        TimeoutException => true,
        SocketException or IOException => true,
        // A driver's "not now" that is not one of its own types (a pool that cannot hand out a connection, a
        // connection broken under a command); anything else of ours stays a bug and a 500.
        InvalidOperationException when Array.IndexOf(DriverAssemblies, exception.Source) >= 0 => true,
        _ => false,
    };

    private static bool IsUnavailableReply(string message)
    {
        foreach (var prefix in RedisUnavailablePrefixes)
            if (message.StartsWith(prefix, StringComparison.Ordinal) && (message.Length == prefix.Length || message[prefix.Length] == ' '))
                return true;
        return false;
    }
}
