using System.Net;
using System.Net.Http.Json;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Edges;

/// <summary>Runs beside the other collections (it mostly waits), not with the drills that stop shared services.</summary>
[CollectionDefinition(nameof(MemorySoak))]
public sealed class MemorySoak;

/// <summary>
/// A long-lived process stays bounded: 200 campaigns start and end over ten minutes in one embedded and one production
/// server process, each sold out by a crowd whose winners then click again. What a process keeps per campaign (its
/// definition, its gate state, its remembered winners) is forgotten once the campaign ended a while ago
/// (Issuance:ForgetEndedAfter, short here), remembered winners make room by whole campaigns when their bound is reached,
/// and the process's memory (RSS) stays flat once its bounded caches are full (small bounds here, reached early). While a sale runs, its winners' repeated clicks are answered from memory:
/// no commit (and in production no gate call) is made for them.
/// </summary>
[Collection(nameof(MemorySoak))]
public sealed class MemorySoakTests : IAsyncLifetime
{
    private const int Campaigns = 200;
    // 200 x 3 s = 10 minutes; COUPONLIVE_SOAK_EVERY_MS shortens it for a look at the curve.
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(
        int.TryParse(Environment.GetEnvironmentVariable("COUPONLIVE_SOAK_EVERY_MS"), out var ms) ? ms : 3_000);
    private const int Quantity = 100;
    private const int Crowd = 150;

    private readonly List<(ServerProcess Server, ServerState State)> _servers = [];

    public async ValueTask InitializeAsync()
    {
        foreach (var mode in (ServerMode[])[ServerMode.Embedded, ServerMode.Production])
        {
            var state = await CouponLiveServer.NewStateAsync(mode);
            _servers.Add((await ServerProcess.StartAsync(state, new()
            {
                ["Issuance__ForgetEndedAfter"] = "00:00:15",
                // Bounds the soak reaches early (its 20,000 winners, 50,000 tokens): past them, memory must stay flat.
                // At the defaults (a million winners, 100,000 tokens) the same holds once they are reached.
                ["Issuance__CommittedCouponsRemembered"] = "1500",
                ["Auth__TokenCacheSize"] = "2000",
            }), state));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (server, state) in _servers)
        {
            await server.DisposeAsync();
            await state.DropDatabaseAsync();
        }
    }

    [Fact]
    public async Task Two_hundred_campaigns_over_ten_minutes_keep_memory_flat_and_winners_answered_from_memory()
    {
        var soaks = _servers.Select(s => SoakAsync(s.Server, s.State)).ToList();
        var reports = await Task.WhenAll(soaks);
        foreach (var r in reports) TestContext.Current.SendDiagnosticMessage(r);
    }

    private static async Task<string> SoakAsync(ServerProcess server, ServerState state)
    {
        using var admin = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        using var crowd = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 50 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var mode = state.IsProduction ? "production" : "embedded";
        var ids = new List<long>();
        long warmRss = 0, maxRss = 0;
        var maxHeld = new Dictionary<string, double>();
        var curve = new List<string>();
        var next = DateTime.UtcNow;

        for (var i = 0; i < Campaigns; i++)
        {
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            next += Every;

            // Open for 8 s from now: the next campaigns start while this one runs.
            var now = DateTimeOffset.UtcNow;
            var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
            {
                name = $"soak-{mode}-{i}-{Guid.NewGuid():N}",
                totalQuantity = Quantity,
                issueStartsAt = now.AddMilliseconds(-1).ToString("O"),
                issueEndsAt = now.AddSeconds(8).ToString("O"),
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var id = (await created.ReadJsonAsync())["id"]!.GetValue<long>();
            ids.Add(id);

            var users = Enumerable.Range(0, Crowd).Select(u => $"soak-{i}-{u}").ToList();
            var answers = await Task.WhenAll(users.Select(u => IssueAsync(crowd, id, u)));
            var winners = users.Where((_, u) => answers[u] == HttpStatusCode.Created).ToList();
            Assert.True(winners.Count == Quantity, $"{mode} campaign {i}: {winners.Count} winners; {string.Join(", ", answers.GroupBy(a => a).Select(g => $"{g.Count()} x {(int)g.Key}"))}");

            // The winners click again while the sale runs: answered from memory, no commit and no gate call.
            var before = await PrometheusText.ReadAsync(admin);
            var again = await Task.WhenAll(winners.Select(u => IssueAsync(crowd, id, u)));
            var after = await PrometheusText.ReadAsync(admin);
            Assert.All(again, a => Assert.Equal(HttpStatusCode.OK, a));
            Assert.Equal(before.Get("couponlive_writer_batch_size_sum"), after.Get("couponlive_writer_batch_size_sum"));
            Assert.Equal(before.Get("couponlive_gate_batch_size_sum"), after.Get("couponlive_gate_batch_size_sum"));

            foreach (var part in (string[])["catalog", "gate", "winners"])
                maxHeld[part] = Math.Max(maxHeld.GetValueOrDefault(part), after.Get("couponlive_campaigns_held", ("part", part)));
            var rss = Rss(server.ProcessId);
            if (i % 20 == 0)
                curve.Add($"{i}: RSS {rss / 1e6:F0}, GC committed {after.Sum("dotnet_gc_last_collection_memory_committed_size_bytes") / 1e6:F0}, " +
                    $"heap {after.Sum("dotnet_gc_last_collection_heap_size_bytes") / 1e6:F0} MB");
            if (i == Campaigns / 5) warmRss = rss; // after two minutes: the runtime's heap has grown to its working size
            if (i >= Campaigns / 5) maxRss = Math.Max(maxRss, rss);
            Assert.False(server.HasExited, server.Output);
        }

        // At most the campaigns of an 8 s window, the 15 s after it and a sweep's slack (4 s), one per interval.
        var bound = Math.Ceiling((8 + 15 + 4) / Every.TotalSeconds) + 2;
        foreach (var (part, held) in maxHeld) Assert.True(held <= bound, $"{mode}: up to {held} campaigns held in the {part}; {Campaigns} came and went");
        var growth = (maxRss - warmRss) / 1e6;
        Assert.True(growth < 64, $"{mode}: RSS {warmRss / 1e6:F0} MB after two minutes, at most {maxRss / 1e6:F0} MB later; {string.Join("; ", curve)}");

        // Every 20th campaign sold exactly, from the store.
        var store = state.Postgres is { } pg ? (ICouponStore)PostgresCouponStore.Open(pg) : new SqliteCouponStore(Path.Combine(state.DataDirectory, "couponlive.db"));
        try
        {
            foreach (var id in ids.Where((_, k) => k % 20 == 0))
            {
                var report = await store.CheckInvariantsAsync(id, CancellationToken.None);
                Assert.True(report.Violations().Count == 0 && report.SoldExactly, report.ToString());
            }
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
        return $"soak {mode}: {Campaigns} campaigns, RSS {warmRss / 1e6:F0} MB after two minutes, at most {maxRss / 1e6:F0} MB after; " +
            $"held at most: {string.Join(", ", maxHeld.Select(h => $"{h.Key} {h.Value}"))}; {string.Join("; ", curve)}";
    }

    private static async Task<HttpStatusCode> IssueAsync(HttpClient client, long id, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue");
        request.Headers.Authorization = new("Bearer", TestTokens.Mint(user));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The process's resident set (VmRSS), in bytes.</summary>
    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
