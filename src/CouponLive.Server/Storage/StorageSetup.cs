using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CouponLive.Storage;

/// <summary>
/// The durable store: SQLite in the data folder (embedded mode), or PostgreSQL or MySQL (MariaDB) through one pooled
/// data source (production mode). One instance serves as the coupon store and as the outbox (<see cref="IEventStore"/>).
/// </summary>
public static class StorageSetup
{
    public static WebApplicationBuilder AddStorage(this WebApplicationBuilder builder)
    {
        var settings = ServerSettings.Of(builder);
        if (settings.MySqlConnection is { } mysql)
        {
            builder.Services.AddSingleton(_ => new MySqlConnector.MySqlDataSource(MySqlCouponStore.WithPoolDefaults(mysql)));
            builder.Services.AddStore<MySqlCouponStore>();
        }
        else if (settings.IsProduction)
        {
            builder.Services.AddNpgsqlDataSource(PostgresCouponStore.WithPoolDefaults(settings.PostgresConnection!));
            builder.Services.AddStore<PostgresCouponStore>();
        }
        else
        {
            builder.Services.AddSingleton(sp => new SqliteCouponStore(settings.DatabasePath, sp.GetRequiredService<TimeProvider>()));
            builder.Services.AddStore<SqliteCouponStore>();
        }
        builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>(
            settings.MySqlConnection is not null ? "mysql" : settings.IsProduction ? "postgres" : "sqlite", tags: [Lifecycle.LifecycleSetup.DependencyTag]);
        return builder;
    }

    private static void AddStore<TStore>(this IServiceCollection services) where TStore : class, ICouponStore, IEventStore
    {
        services.TryAddSingleton<TStore>();
        services.AddSingleton<ICouponStore>(sp => sp.GetRequiredService<TStore>());
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<TStore>());
    }
}
