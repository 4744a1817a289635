using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using CouponLive.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// The real service on real Kestrel (loopback, ephemeral port) over a data folder of its own:
/// tests talk HTTP to it exactly as clients do.
/// </summary>
public sealed class CouponLiveServer : IAsyncDisposable
{
    public const string AdminPassword = "operator-test-pass-9";

    private readonly WebApplicationFactory<Program> _factory;

    public HttpClient Client { get; }
    public string DataDirectory { get; }
    public Uri BaseAddress { get; }
    public ServerMode Mode { get; }

    /// <summary>Where this server keeps its state: the data folder, or (production) its database and Redis key prefix.</summary>
    public ServerState State { get; }

    private CouponLiveServer(WebApplicationFactory<Program> factory, string dataDirectory, ServerState state)
    {
        _factory = factory;
        DataDirectory = dataDirectory;
        State = state;
        Mode = state.MySql is not null ? ServerMode.ProductionMySql : state.Postgres is null ? ServerMode.Embedded : ServerMode.Production;
        factory.UseKestrel(0);
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)));
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Starts an embedded-mode server over a data folder (a new one unless given).</summary>
    public static CouponLiveServer Start(string? dataDirectory = null, TimeProvider? clock = null, Dictionary<string, string?>? settings = null) =>
        Start(new ServerState(dataDirectory ?? Directory.CreateTempSubdirectory("couponlive-test-").FullName, null, null), clock, settings);

    /// <summary>A fresh state for a mode: a data folder, plus for production a new database and Redis key prefix.</summary>
    public static async Task<ServerState> NewStateAsync(ServerMode mode) => new(
        Directory.CreateTempSubdirectory("couponlive-test-").FullName,
        mode == ServerMode.Production ? await TestServices.CreateDatabaseAsync() : null,
        mode == ServerMode.Embedded ? null : "t" + Guid.NewGuid().ToString("N")[..12],
        MySql: mode == ServerMode.ProductionMySql ? await TestServices.CreateMySqlDatabaseAsync() : null);

    public static CouponLiveServer Start(ServerState state, TimeProvider? clock = null, Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var dataDirectory = state.DataDirectory;
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("urls", "http://127.0.0.1:0");
            web.UseSetting("Storage:DataDirectory", dataDirectory);
            web.UseSetting("Auth:SigningKey", TestTokens.SigningKey);
            web.UseSetting("Codes:Key", TestTokens.CodeKey);
            web.UseSetting("Admin:Password", AdminPassword);
            web.UseSetting("Logging:LogLevel:Default", "Warning");
            web.UseSetting("Rpc:GrpcUrl", ""); // no fixed gRPC port: many test servers run at once (Connect works on the HTTP/1.1 port)
            web.UseSetting("Shutdown:DrainDelay", "00:00:00"); // no load balancer to wait for (the shutdown tests set their own)
            foreach (var (key, value) in state.ProductionSettings()) web.UseSetting(key, value);
            foreach (var (k, v) in settings ?? []) web.UseSetting(k, v);
            if (clock is not null) web.ConfigureTestServices(s => s.AddSingleton(clock));
            if (services is not null) web.ConfigureTestServices(services); // e.g. the store and gate wrapped for faults (ServiceWrapping)
        });
        return new CouponLiveServer(factory, dataDirectory, state);
    }

    public IServiceProvider Services => _factory.Services;

    /// <summary>A client of its own (real sockets), optionally with a bearer token.</summary>
    public HttpClient NewClient(string? token = null, int maxConnections = 64)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConnections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async Task<string> AdminTokenAsync()
    {
        var response = await Client.PostAsJsonAsync("/api/v1/auth/token", new { loginId = "admin", password = AdminPassword });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["accessToken"]!.GetValue<string>();
    }

    /// <summary>Creates a campaign with one window [startsAt, endsAt).</summary>
    public Task<JsonObject> CreateWindowCampaignAsync(int quantity, DateTimeOffset startsAt, DateTimeOffset endsAt) =>
        CreateCampaignAsync(0, new
        {
            name = "campaign-" + Guid.NewGuid().ToString("N"),
            totalQuantity = quantity,
            issueStartsAt = startsAt.ToString("O"),
            issueEndsAt = endsAt.ToString("O"),
        });

    /// <summary>Creates a campaign with one window [now - 1 s, now + 1 h) unless a body is given.</summary>
    public async Task<JsonObject> CreateCampaignAsync(int quantity, object? body = null, DateTimeOffset? now = null)
    {
        var t = now ?? DateTimeOffset.UtcNow;
        body ??= new
        {
            name = "campaign-" + Guid.NewGuid().ToString("N"),
            totalQuantity = quantity,
            issueStartsAt = t.AddSeconds(-1).ToString("O"),
            issueEndsAt = t.AddHours(1).ToString("O"),
        };
        using var admin = NewClient(await AdminTokenAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/campaigns", body);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Creating the campaign failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The invariant report for a campaign, straight from the database.</summary>
    public Task<InvariantReport> CheckAsync(JsonObject campaign) =>
        Services.GetRequiredService<ICouponStore>().CheckInvariantsAsync(campaign["id"]!.GetValue<long>(), CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
    }
}
