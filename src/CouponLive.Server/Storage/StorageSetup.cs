namespace CouponLive.Storage;

/// <summary>The durable store: SQLite in the data folder (embedded mode), or PostgreSQL through one pooled data source (production mode).</summary>
public static class StorageSetup
{
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var settings = ServerSettings.Of(builder);
        if (settings.IsProduction)
        {
            builder.Services.AddNpgsqlDataSource(PostgresCouponStore.WithPoolDefaults(settings.PostgresConnection!));
            builder.Services.AddSingleton<ICouponStore, PostgresCouponStore>();
        }
        else
        {
            builder.Services.AddSingleton<ICouponStore>(new SqliteCouponStore(settings.DatabasePath));
        }
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>(settings.IsProduction ? "postgres" : "sqlite", tags: ["ready"]);
        return builder;
    }
}
