namespace CouponLive.Tests.Infrastructure;

/// <summary>One server shared by the tests of a class; each test makes its own campaigns and users.</summary>
public abstract class ServerFixture(ServerMode mode) : IAsyncLifetime
{
    public CouponLiveServer Server { get; private set; } = null!;

    public ServerMode Mode => mode;

    public async ValueTask InitializeAsync() => Server = CouponLiveServer.Start(await CouponLiveServer.NewStateAsync(mode));

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Server.State.DropDatabaseAsync();
    }
}

public sealed class EmbeddedServerFixture() : ServerFixture(ServerMode.Embedded);

public sealed class ProductionServerFixture() : ServerFixture(ServerMode.Production);

public sealed class ProductionMySqlServerFixture() : ServerFixture(ServerMode.ProductionMySql);
