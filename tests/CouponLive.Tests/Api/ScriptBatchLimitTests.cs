using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using CouponLive.Issuance;
using CouponLive.Issuance.Redis;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CouponLive.Tests.Api;

/// <summary>
/// The largest batch the settings allow goes through the real scripts on the real Redis, every user admitted (the
/// worst case: two unpacked values per admission in HSET and XADD). Redis's Lua unpacks fewer than 8,000 values at
/// once, so Redis:MaxBatch and Grants:ChunkSize stop at <see cref="RedisGateOptions.MaxUsersPerScriptCall"/>.
/// </summary>
public sealed class ScriptBatchLimitTests : IAsyncLifetime
{
    private const int Max = RedisGateOptions.MaxUsersPerScriptCall;

    private ServerState _state = null!;
    private CouponLiveServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _state = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        var max = Max.ToString(CultureInfo.InvariantCulture);
        _server = CouponLiveServer.Start(_state, settings: new() { ["Redis:MaxBatch"] = max, ["Grants:ChunkSize"] = max });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _state.DropDatabaseAsync();
    }

    [Fact]
    public async Task One_admit_call_of_the_largest_batch_admits_every_user_into_one_outbox_entry()
    {
        var id = (await _server.CreateCampaignAsync(Max))["id"]!.GetValue<long>();
        var services = _server.Services;
        Assert.True(await services.GetRequiredService<GateLoader>().EnsureLoadedAsync(id, CancellationToken.None));
        Assert.Equal(Max, services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RedisGateOptions>>().Value.MaxBatch);

        var keys = services.GetRequiredService<RedisKeys>().Gate(id);
        var users = Enumerable.Range(0, Max).Select(i => (RedisValue)$"batch-user-{i}").ToArray();
        var result = (RedisResult[])(await services.GetRequiredService<RedisScripts>().EvaluateAsync(RedisScripts.Admit, keys, users))!;

        var answers = result.Skip(3).Select(r => (string)r!).ToList();
        Assert.Equal(Max, answers.Count);
        Assert.All(answers, a => Assert.StartsWith("A", a, StringComparison.Ordinal));
        Assert.Equal(Max, answers.Select(a => a.Split(':')[0]).Distinct().Count()); // a sequence number each

        var db = services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var entry = Assert.Single(await db.StreamRangeAsync(keys[4], (string)result[2]!, (string)result[2]!));
        var admitted = entry.Values.Where(v => v.Name != "").ToDictionary(v => (string)v.Name!, v => (string)v.Value!);
        Assert.Equal(users.Select(u => (string)u!).Order(), admitted.Keys.Order());
        Assert.Equal(Max, (long)await db.HashGetAsync(keys[0], "issued"));
        Assert.Equal(Max + 1, await db.HashLengthAsync(keys[1])); // the holders, and the placeholder field
    }

    [Fact]
    public async Task A_grant_in_chunks_of_the_largest_size_issues_every_user()
    {
        var id = (await _server.CreateCampaignAsync(Max))["id"]!.GetValue<long>();
        using var admin = _server.NewClient(await _server.AdminTokenAsync());
        var users = Enumerable.Range(0, Max).Select(i => $"granted-{i}").ToArray();
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new { grantId = "max-chunk", userIds = users })).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        System.Text.Json.Nodes.JsonObject grant;
        while ((grant = await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/max-chunk?limit=1")).ReadJsonAsync())["status"]!.GetValue<string>() != "done")
        {
            Assert.True(DateTime.UtcNow < deadline, $"grant not done in time: {grant}");
            await Task.Delay(100);
        }
        Assert.Equal(Max, grant["issued"]!.GetValue<int>());
        Assert.Equal(0, grant["soldOut"]!.GetValue<int>() + grant["alreadyHeld"]!.GetValue<int>() + grant["invalid"]!.GetValue<int>());

        var report = await _server.Services.GetRequiredService<ICouponStore>().CheckInvariantsAsync(id, CancellationToken.None);
        Assert.True(report.SoldExactly && report.Violations().Count == 0, report.ToString());
    }
}
