using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Edges;

/// <summary>
/// A real server of the test class's own (in process, on real Redis and a real SQL store in production mode) whose
/// store and gate are wrapped by a <see cref="FaultPlan"/>, and what the edge tests ask of it: campaigns, users, issue
/// requests, the store as a tool outside the server reads it, and Redis commands on the campaign's keys.
/// </summary>
public abstract class EdgeServer(ServerMode mode) : IAsyncLifetime
{
    protected FaultPlan Plan { get; } = new();

    /// <summary>The store call every gate rebuild makes once: counting it counts rebuilds.</summary>
    protected const string SnapshotCall = "ICouponStore.ReserveGateSnapshotAsync";

    protected CouponLiveServer Server { get; private set; } = null!;

    protected ServerMode Mode => mode;

    /// <summary>The server's clock (null: the system's).</summary>
    protected virtual TimeProvider? Clock => null;

    protected virtual Dictionary<string, string?> Settings => [];

    public virtual async ValueTask InitializeAsync() =>
        Server = CouponLiveServer.Start(await CouponLiveServer.NewStateAsync(mode), Clock, Settings, ServiceWrapping.Faults(Plan));

    public virtual async ValueTask DisposeAsync()
    {
        Plan.Disarm();
        await Server.DisposeAsync();
        await Server.State.DropDatabaseAsync();
    }

    protected HttpClient User(string name) => Server.NewClient(TestTokens.Mint(name));

    protected async Task<HttpClient> AdminAsync() => Server.NewClient(await Server.AdminTokenAsync());

    protected static string NewUser(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>One issue request of <paramref name="user"/>: its status, and the code or the problem's code.</summary>
    protected async Task<(HttpStatusCode Status, string? Code)> IssueAsync(string user, long campaignId)
    {
        using var client = User(user);
        var response = await client.PostAsync($"/api/v1/campaigns/{campaignId}/issue", null);
        var body = response.Content.Headers.ContentLength == 0 ? null : await response.Content.ReadFromJsonAsync<JsonObject>();
        return (response.StatusCode, body?["code"]?.GetValue<string>());
    }

    /// <summary>Issues to <paramref name="users"/> at once; their answers in order.</summary>
    protected Task<(HttpStatusCode Status, string? Code)[]> CrowdAsync(long campaignId, IEnumerable<string> users) =>
        Task.WhenAll(users.Select(u => IssueAsync(u, campaignId)));

    /// <summary>A store of its own on the server's database, as a tool reading it from outside would have (dispose it).</summary>
    protected ICouponStore OpenStore()
    {
        var state = Server.State;
        if (state.MySql is { } mysql) return MySqlCouponStore.Open(mysql);
        if (state.Postgres is { } pg) return PostgresCouponStore.Open(pg);
        return new SqliteCouponStore(Path.Combine(state.DataDirectory, "couponlive.db"));
    }

    /// <summary>The campaign as the store holds it now.</summary>
    protected async Task<StoredCampaign> StoredAsync(long campaignId)
    {
        var store = OpenStore();
        try
        {
            return (await store.GetCampaignAsync(campaignId, CancellationToken.None))!;
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
    }

    /// <summary>Asserts I1-I4 for the campaign from the store; the report.</summary>
    protected async Task<InvariantReport> AssertInvariantsAsync(long campaignId)
    {
        var store = OpenStore();
        try
        {
            var report = await store.CheckInvariantsAsync(campaignId, CancellationToken.None);
            Assert.True(report.Violations().Count == 0, report.ToString());
            return report;
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
    }

    /// <summary>A Redis command on the shared test Redis (production mode).</summary>
    protected static Task<string> RedisAsync(params string[] command)
    {
        var endpoint = TestServices.Redis.Split(',')[0].Split(':');
        return Shell.RunAsync("redis-cli", ["-h", endpoint[0], "-p", endpoint.Length > 1 ? endpoint[1] : "6379", .. command]);
    }

    /// <summary>The Redis key of a part of a campaign's gate state (meta, holders, windows, wcount, outbox).</summary>
    protected string GateKey(long campaignId, string part) => $"{Server.State.RedisPrefix}:{{c:{campaignId}}}:{part}";

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; false if it never did.</summary>
    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition()) return true;
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(100);
        }
    }
}
