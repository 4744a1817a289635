namespace CouponLive.Storage;

/// <summary>
/// The durable store: SQLite in the data folder (embedded mode), or PostgreSQL or MySQL (MariaDB) through one pooled
/// data source (production mode).
/// </summary>
public static class StorageSetup
{
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var settings = ServerSettings.Of(builder);
        if (settings.MySqlConnection is { } mysql)
        {
            builder.Services.AddSingleton(_ => new MySqlConnector.MySqlDataSource(MySqlCouponStore.WithPoolDefaults(mysql)));
            builder.Services.AddSingleton<ICouponStore, MySqlCouponStore>();
        }
        else if (settings.IsProduction)
        {
            builder.Services.AddNpgsqlDataSource(PostgresCouponStore.WithPoolDefaults(settings.PostgresConnection!));
            builder.Services.AddSingleton<ICouponStore, PostgresCouponStore>();
        }
        else
        {
            builder.Services.AddSingleton<ICouponStore>(new SqliteCouponStore(settings.DatabasePath));
        }
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>(
            settings.MySqlConnection is not null ? "mysql" : settings.IsProduction ? "postgres" : "sqlite", tags: ["ready"]);
        return builder;
    }
}
