using System.Net.Sockets;
using CouponLive.Issuance;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace CouponLive.Tests.Unit;

/// <summary>
/// Which exceptions mean "a dependency is unavailable now" (503 with Retry-After) and which stay a bug (500). The
/// drivers' real exceptions with their servers stopped are drilled in Faults/StoppedDependencyDrill.cs; these are
/// the same shapes built by hand, and the look-alikes that must not count.
/// </summary>
public sealed class DependencyOutageTests
{
    private static RedisServerException Redis(RedisErrorKind kind, string message) => new(kind, CommandFlags.None, message);

    public static TheoryData<string, Exception> Outages => new()
    {
        { "the issue path's own", new StoreUnavailableException("commit timed out") },
        { "an open circuit", new BrokenCircuitException() },
        { "Redis unreachable", new RedisConnectionException(ConnectionFailureType.SocketFailure, CommandFlags.None, "No connection is active/available", null, CommandStatus.Unknown) },
        { "a Redis timeout", new RedisTimeoutException(CommandFlags.None, "Timeout awaiting response", CommandStatus.Sent) },
        { "Redis loading", Redis(RedisErrorKind.Loading, "LOADING Redis is loading the dataset in memory") },
        { "a replica", Redis(RedisErrorKind.ReadOnly, "READONLY You can't write against a read only replica.") },
        { "a replica cut off", Redis(RedisErrorKind.MasterDown, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.") },
        { "a cluster down", Redis(RedisErrorKind.ClusterDown, "CLUSTERDOWN The cluster is down") },
        { "a slot moving", Redis(RedisErrorKind.TryAgain, "TRYAGAIN Multiple keys request during rehashing of slot") },
        { "too few replicas", Redis(RedisErrorKind.NoReplicas, "NOREPLICAS Not enough good replicas to write.") },
        { "a script running", Redis(RedisErrorKind.Busy, "BUSY Redis is busy running a script.") },
        { "unclassified by the client", Redis(RedisErrorKind.Unknown, "LOADING Redis is loading the dataset in memory") },
        { "out of connections", Redis(RedisErrorKind.MaxClients, "ERR max number of clients reached") },
        { "PostgreSQL refused", new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)) },
        { "PostgreSQL gone mid-read", new Npgsql.NpgsqlException("Exception while reading from stream", new EndOfStreamException()) },
        { "PostgreSQL starting", new Npgsql.PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03") },
        { "SQLite busy", new Microsoft.Data.Sqlite.SqliteException("database is locked", 5) },
        { "SQLite locked", new Microsoft.Data.Sqlite.SqliteException("database table is locked", 6) },
        { "a timeout", new TimeoutException() },
        { "a socket", new SocketException((int)SocketError.ConnectionReset) },
        { "a broken stream", new IOException("Unable to read data from the transport connection") },
        { "a driver's pool", new InvalidOperationException("The connection pool is exhausted") { Source = "Npgsql" } },
        { "wrapped", new InvalidOperationException("Loading failed", new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "down", null, CommandStatus.Unknown)) },
        { "aggregated", new AggregateException(new ArgumentException("other"), new TimeoutException()) },
    };

    public static TheoryData<string, Exception> Bugs => new()
    {
        { "our own invariant", new InvalidOperationException("Campaign 7 vanished after creation.") },
        { "a format", new FormatException() },
        { "a wrong command", Redis(RedisErrorKind.UnknownCommand, "ERR unknown command 'FOO'") },
        { "a look-alike reply", Redis(RedisErrorKind.Unknown, "BUSYKEY Target key name already exists.") },
        { "a wrong type", Redis(RedisErrorKind.WrongType, "WRONGTYPE Operation against a key holding the wrong kind of value") },
        { "a constraint", new Npgsql.PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505") },
        { "a SQLite constraint", new Microsoft.Data.Sqlite.SqliteException("UNIQUE constraint failed", 19) },
        { "a cancellation", new OperationCanceledException() },
        { "the client's body", new BadHttpRequestException("Unexpected end of request content.") },
        { "the client's body, wrapping", new BadHttpRequestException("Reading the request failed", new IOException("reset")) },
        { "the client's connection", new ConnectionResetException("Connection reset by peer") },
        { "the client gone", new ConnectionAbortedException() },
        { "an argument", new ArgumentException("bad") },
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public void A_dependency_failing_is_an_outage(string what, Exception exception)
    {
        Assert.True(DependencyOutage.Is(exception), what);
        Assert.NotNull(DependencyOutage.Find(exception));
        Assert.False(string.IsNullOrEmpty(DependencyOutage.Describe(exception)));
    }

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Anything_else_is_not(string what, Exception exception) => Assert.False(DependencyOutage.Is(exception), what);

    [Fact]
    public void The_description_names_the_cause_inside_a_wrapper()
    {
        var wrapped = new InvalidOperationException("outer", new Npgsql.NpgsqlException("Failed to connect\nsecond line", new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Equal("NpgsqlException: Failed to connect", DependencyOutage.Describe(wrapped));
    }
}
