using System.Globalization;
using System.Text.RegularExpressions;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// A Redis that may evict keys would silently drop the gate's holders or outbox (I2, I6): a production server
/// refuses to start on one, naming the node, the policy and the setting that overrides the refusal; with that
/// setting it starts and warns. A Redis away at start is checked once it connects. Real redis-server processes on
/// free loopback ports, and real server processes (their exit code and output).
/// </summary>
public sealed partial class RedisEvictionPolicyTests
{
    [Theory]
    [InlineData("allkeys-lru")]
    [InlineData("volatile-lru")]
    public async Task A_Redis_that_may_evict_keys_stops_the_server_at_start(string policy)
    {
        await using var redis = await PrivateRedis.StartAsync(null, "--maxmemory-policy", policy);
        var output = await StartFailsAsync(redis.ConnectionString);
        Assert.Contains($"Redis node {redis.ConnectionString} has maxmemory-policy {policy}", output, StringComparison.Ordinal);
        Assert.Contains("Redis:AllowEvictionPolicy=true", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Where_CONFIG_is_renamed_away_the_policy_is_read_from_INFO()
    {
        await using var redis = await PrivateRedis.StartAsync(null, "--maxmemory-policy", "allkeys-random", "--rename-command", "CONFIG", "");
        var output = await StartFailsAsync(redis.ConnectionString);
        Assert.Contains($"Redis node {redis.ConnectionString} has maxmemory-policy allkeys-random", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_override_the_server_starts_and_warns()
    {
        await using var redis = await PrivateRedis.StartAsync(null, "--maxmemory-policy", "allkeys-lru");
        var state = await StateOnAsync(redis.ConnectionString);
        try
        {
            await using var server = await ServerProcess.StartAsync(state, new() { ["Redis__AllowEvictionPolicy"] = "true" });
            var output = await OutputAsync(server, $"Redis node {redis.ConnectionString} has maxmemory-policy allkeys-lru, not noeviction");
            Assert.Contains("warn: CouponLive.Issuance.Redis.RedisEvictionPolicyCheck", output, StringComparison.Ordinal);
            Assert.Contains("Running anyway because Redis:AllowEvictionPolicy is true", output, StringComparison.Ordinal);
            var id = await TestCampaigns.CreateAsync(server.BaseAddress, 1);
            using var client = new HttpClient { BaseAddress = server.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("buyer"));
            Assert.Equal(System.Net.HttpStatusCode.Created, (await client.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode);
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }

    [Fact]
    public async Task On_the_test_Redis_which_never_evicts_the_server_starts_without_a_word_about_it()
    {
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        try
        {
            await using var server = await ServerProcess.StartAsync(state);
            Assert.DoesNotContain("maxmemory-policy", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }

    [Fact]
    public async Task A_Redis_away_at_start_is_checked_when_it_connects_and_an_evicting_one_is_logged_as_an_error()
    {
        var port = FreePorts.Block(1); // below the ephemeral range: the server's reconnects cannot take it meanwhile
        var state = await StateOnAsync("127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
        try
        {
            // The server starts without Redis (serving, its start-up checks done, answering 503 until Redis is there).
            await using var server = await ServerProcess.StartAsync(state, readyPath: "/health/live");
            await OutputAsync(server, $"Redis node(s) 127.0.0.1:{port} unreachable at start: their maxmemory-policy is checked once they connect");
            await using var redis = await PrivateRedis.StartAsync(port, "--maxmemory-policy", "allkeys-lru");

            var output = await OutputAsync(server, $"Redis node 127.0.0.1:{port} has maxmemory-policy allkeys-lru, not noeviction");
            Assert.Contains("fail: CouponLive.Issuance.Redis.RedisEvictionPolicyCheck", output, StringComparison.Ordinal);
            Assert.Contains("Redis:AllowEvictionPolicy=true accepts the risk", output, StringComparison.Ordinal);
            Assert.False(server.HasExited);
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }

    [Fact]
    public async Task A_cluster_with_one_evicting_primary_stops_the_server_at_start()
    {
        await using var cluster = await RedisTopology.StartClusterAsync(primaries: 3, replicasPerPrimary: 0);
        var evicting = cluster.BasePort + 1;
        Assert.Equal("OK", await RedisTopology.CliAsync(evicting, "config", "set", "maxmemory-policy", "volatile-ttl"));
        var output = await StartFailsAsync(cluster.ConnectionString);
        Assert.Contains($"Redis node 127.0.0.1:{evicting} has maxmemory-policy volatile-ttl", output, StringComparison.Ordinal);
        Assert.DoesNotContain($"127.0.0.1:{cluster.BasePort} has maxmemory-policy", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_evicting_primary_under_Sentinel_stops_the_server_at_start()
    {
        await using var sentinel = await RedisTopology.StartSentinelAsync();
        var primary = await sentinel.SentinelPrimaryAsync();
        Assert.Equal("OK", await RedisTopology.CliAsync(primary, "config", "set", "maxmemory-policy", "allkeys-lfu"));
        var output = await StartFailsAsync(sentinel.ConnectionString);
        Assert.Contains($"Redis node 127.0.0.1:{primary} has maxmemory-policy allkeys-lfu", output, StringComparison.Ordinal);
    }

    /// <summary>Starts a production server process on <paramref name="redis"/>, which must fail: its output, after checking the exit code.</summary>
    private static async Task<string> StartFailsAsync(string redis)
    {
        var state = await StateOnAsync(redis);
        try
        {
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(state));
            var exit = ExitCode().Match(failure.Message);
            Assert.True(exit.Success, failure.Message);
            Assert.NotEqual("0", exit.Groups[1].Value);
            Assert.Contains("The admission gate's keys must never be evicted", failure.Message, StringComparison.Ordinal);
            return failure.Message;
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }

    /// <summary>The process's output once it holds <paramref name="text"/> (logs arrive a moment after what they tell; bounded).</summary>
    private static async Task<string> OutputAsync(ServerProcess server, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!server.Output.Contains(text, StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(100);
        var output = server.Output;
        Assert.Contains(text, output, StringComparison.Ordinal);
        return output;
    }

    private static async Task<ServerState> StateOnAsync(string redis) =>
        (await CouponLiveServer.NewStateAsync(ServerMode.Production)) with { Redis = redis };

    [GeneratedRegex(@"^Server exited with (-?\d+):")]
    private static partial Regex ExitCode();
}
