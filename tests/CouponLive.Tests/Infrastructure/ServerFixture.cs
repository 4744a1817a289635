namespace CouponLive.Tests.Infrastructure;

/// <summary>One embedded server shared by the tests of a class; each test makes its own campaigns and users.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public CouponLiveServer Server { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Server = CouponLiveServer.Start();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
