using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>How the writer tells a failure the rows caused from one of the store itself.</summary>
public static class StoreErrors
{
    /// <summary>
    /// True when the database server refused the statement for what it contained and says retrying will not help
    /// (a trigger's error, a bug in a row): the writer then commits the group's rows apart to find the one at fault.
    /// Anything else (connection refused or lost, a timeout, a deadlock, the server shutting down, a client-side
    /// failure) is the store's: the rows wait and are tried again as they are.
    /// </summary>
    public static bool IsRowCaused(Exception ex) => !DependencyOutage.Is(ex) && ex switch
    {
        PostgresException pg => !pg.IsTransient && !pg.SqlState.StartsWith("08", StringComparison.Ordinal) && !pg.SqlState.StartsWith("57", StringComparison.Ordinal)
                                && !pg.SqlState.StartsWith("53", StringComparison.Ordinal),
        // Server errors are numbered 1000-1999 (and 3000+ in MySQL 8); 2000-2999 are the client's (connection lost...).
        MySqlException my => !my.IsTransient && my.Number is (>= 1000 and < 2000) or >= 3000,
        SqliteException lite => !lite.IsTransient && lite.SqliteErrorCode is not (5 or 6 or 10 or 13 or 14), // busy, locked, I/O, full, cannot open
        _ => false,
    };
}
