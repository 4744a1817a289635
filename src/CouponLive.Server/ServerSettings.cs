namespace CouponLive;

/// <summary>Where the service keeps its files and which mode it runs in, resolved once at start.</summary>
public sealed record ServerSettings(string DataDirectory, string Mode, string? RedisConnection, string? PostgresConnection)
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

    /// <summary>Production mode when both connection strings are set; embedded when neither; otherwise a start-up error.</summary>
    public static ServerSettings Resolve(IConfiguration config)
    {
        var dataDirectory = Path.GetFullPath(config["Storage:DataDirectory"] is { Length: > 0 } d ? d : "data");
        Directory.CreateDirectory(dataDirectory);
        var redis = config.GetConnectionString("Redis") is { Length: > 0 } r ? r : null;
        var postgres = config.GetConnectionString("Postgres") is { Length: > 0 } p ? p : null;
        if ((redis is null) != (postgres is null))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{(redis is null ? "Postgres" : "Redis")} is set but ConnectionStrings:{(redis is null ? "Redis" : "Postgres")} is not. " +
                "Set both for production mode (Redis gate, PostgreSQL store) or neither for embedded mode.");
        }
        return new ServerSettings(dataDirectory, redis is null ? EmbeddedMode : ProductionMode, redis, postgres);
    }
}
