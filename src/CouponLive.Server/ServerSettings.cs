namespace CouponLive;

/// <summary>Where the service keeps its files and which mode it runs in, resolved once at start.</summary>
public sealed record ServerSettings(string DataDirectory, string Mode, string? RedisConnection, string? PostgresConnection, string? MySqlConnection = null)
{
    public const string EmbeddedMode = "embedded";
    public const string ProductionMode = "production";

    public bool IsProduction => Mode == ProductionMode;

    public string DatabasePath => Path.Combine(DataDirectory, "couponlive.db");

    /// <summary>The settings of the host being built, resolved once and registered for injection.</summary>
    public static ServerSettings Of(WebApplicationBuilder builder)
    {
        if (builder.Host.Properties.TryGetValue(typeof(ServerSettings), out var known)) return (ServerSettings)known;
        var settings = Resolve(builder.Configuration);
        builder.Host.Properties[typeof(ServerSettings)] = settings;
        builder.Services.AddSingleton(settings);
        return settings;
    }

    /// <summary>
    /// Production mode when Redis and one SQL store (PostgreSQL or MySQL) are set; embedded when none is; otherwise a
    /// start-up error that names what is missing or doubled.
    /// </summary>
    public static ServerSettings Resolve(IConfiguration config)
    {
        var dataDirectory = Path.GetFullPath(config["Storage:DataDirectory"] is { Length: > 0 } d ? d : "data");
        Directory.CreateDirectory(dataDirectory);
        var redis = config.GetConnectionString("Redis") is { Length: > 0 } r ? r : null;
        var postgres = config.GetConnectionString("Postgres") is { Length: > 0 } p ? p : null;
        var mysql = config.GetConnectionString("MySql") is { Length: > 0 } m ? m : null;
        if (postgres is not null && mysql is not null)
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Postgres and ConnectionStrings:MySql are both set. Production mode uses one SQL store: set one of them.");
        }
        var sql = postgres is not null ? "Postgres" : mysql is not null ? "MySql" : null;
        if ((redis is null) != (sql is null))
        {
            throw new InvalidOperationException(redis is null
                ? $"ConnectionStrings:{sql} is set but ConnectionStrings:Redis is not. Set Redis and one SQL store (Postgres or MySql) for production mode, or none for embedded mode."
                : "ConnectionStrings:Redis is set but no SQL store is. Set ConnectionStrings:Postgres or ConnectionStrings:MySql for production mode, or none for embedded mode.");
        }
        return new ServerSettings(dataDirectory, redis is null ? EmbeddedMode : ProductionMode, redis, postgres, mysql);
    }
}
