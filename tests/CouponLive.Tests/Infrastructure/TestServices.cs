using Npgsql;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// The Redis and PostgreSQL that scripts/test.sh starts (scripts/services.sh) and names in
/// COUPONLIVE_TEST_REDIS and COUPONLIVE_TEST_POSTGRES. Missing variables fail the test with a hint:
/// production-mode tests are never skipped.
/// </summary>
public static class TestServices
{
    public static string Redis => Require("COUPONLIVE_TEST_REDIS");
    public static string Postgres => Require("COUPONLIVE_TEST_POSTGRES");
    public static string MySql => Require("COUPONLIVE_TEST_MYSQL");

    /// <summary>A fresh, empty database on the test MariaDB; its connection string.</summary>
    public static async Task<string> CreateMySqlDatabaseAsync()
    {
        var name = "cl_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new MySqlConnector.MySqlConnection(MySql))
        {
            await conn.OpenAsync();
            await using var cmd = new MySqlConnector.MySqlCommand($"CREATE DATABASE `{name}`", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new MySqlConnector.MySqlConnectionStringBuilder(MySql) { Database = name }.ToString();
    }

    /// <summary>Drops a test database on the test MariaDB (best effort, as for PostgreSQL).</summary>
    public static async Task DropMySqlDatabaseAsync(string connectionString)
    {
        var name = new MySqlConnector.MySqlConnectionStringBuilder(connectionString).Database;
        MySqlConnector.MySqlConnection.ClearAllPools();
        try
        {
            await using var conn = new MySqlConnector.MySqlConnection(MySql);
            await conn.OpenAsync();
            await using var cmd = new MySqlConnector.MySqlCommand($"DROP DATABASE IF EXISTS `{name}`", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (MySqlConnector.MySqlException)
        {
            // A leftover test database must not fail a test that passed.
        }
    }

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run the tests with ./scripts/test.sh, which starts Redis and PostgreSQL.");

    /// <summary>The checkout's root (where CouponLive.slnx is), for scripts and Node test assets.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CouponLive.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A fresh, empty database on the test PostgreSQL; its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "cl_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(Postgres))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ToString();
    }

    /// <summary>
    /// Drops a test database. Best effort: an autovacuum worker (owned by the superuser) can hold it for a
    /// moment, and a leftover database must not fail a test that passed.
    /// </summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            try
            {
                await using var conn = new NpgsqlConnection(Postgres);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", conn);
                await cmd.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException) when (attempt < 5)
            {
                await Task.Delay(500);
            }
            catch (PostgresException ex)
            {
                Console.Error.WriteLine($"Leaving test database {name}: {ex.MessageText}");
            }
        }
    }
}
