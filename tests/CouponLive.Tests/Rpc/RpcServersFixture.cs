using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Rpc;

/// <summary>
/// Real server processes with the gRPC (h2c) port open: one per mode, plus one whose commits always time
/// out (UNAVAILABLE). Interop clients run against them from Node (tests/interop, installed by scripts/test.sh).
/// </summary>
public sealed class RpcServersFixture : IAsyncLifetime
{
    public ServerProcess Embedded { get; private set; } = null!;
    public ServerProcess Production { get; private set; } = null!;
    public ServerProcess Down { get; private set; } = null!;
    private ServerState _production = null!;

    public async ValueTask InitializeAsync()
    {
        _production = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        var starts = new[]
        {
            ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), grpc: true),
            ServerProcess.StartAsync(_production, grpc: true),
            ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), new() { ["Issuance__CommitTimeout"] = "00:00:00" }, grpc: true),
        };
        await Task.WhenAll(starts);
        (Embedded, Production, Down) = (starts[0].Result, starts[1].Result, starts[2].Result);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in new[] { Embedded, Production, Down }) if (server is not null) await server.DisposeAsync();
        await TestServices.DropDatabaseAsync(_production.Postgres!);
    }
}
