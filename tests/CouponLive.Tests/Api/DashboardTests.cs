using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// The dashboard in real headless Chromium, and its live stream. In production mode the browser and
/// the stream read one process while the crowd hits another: the figures must still add up.
/// </summary>
public abstract class DashboardTests(ServerMode mode) : IAsyncLifetime
{
    private ServerState _state = null!;
    private readonly List<IAsyncDisposable> _servers = [];
    private Uri _watched = null!, _hit = null!;

    public async ValueTask InitializeAsync()
    {
        _state = await CouponLiveServer.NewStateAsync(mode);
        if (mode == ServerMode.Embedded)
        {
            var server = CouponLiveServer.Start(_state);
            _servers.Add(server);
            _watched = _hit = server.BaseAddress;
        }
        else
        {
            var servers = await Task.WhenAll(ServerProcess.StartAsync(_state), ServerProcess.StartAsync(_state));
            _servers.AddRange(servers);
            (_watched, _hit) = (servers[0].BaseAddress, servers[1].BaseAddress);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        if (_state.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
    }

    [Fact]
    public async Task The_live_view_follows_a_sale_to_sold_out_in_a_real_browser()
    {
        const int quantity = 200;
        var name = $"browser-{mode}-{Guid.NewGuid():N}"[..40];
        var screenshot = Path.Combine(TestServices.RepoRoot(), "artifacts", $"dashboard-{mode.ToString().ToLowerInvariant()}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);

        // The script drives the whole scenario; nothing is handed back and forth over its stdout.
        var info = new ProcessStartInfo("node") { WorkingDirectory = Path.Combine(TestServices.RepoRoot(), "tests", "browser"), RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("dashboard.mjs");
        info.Environment["BASE_URL"] = _watched.ToString().TrimEnd('/');
        info.Environment["HIT_URL"] = _hit.ToString().TrimEnd('/');
        info.Environment["ADMIN_PASSWORD"] = CouponLiveServer.AdminPassword;
        info.Environment["SIGNING_KEY"] = TestTokens.SigningKey;
        info.Environment["SCREENSHOT"] = screenshot;
        info.Environment["CAMPAIGN_NAME"] = name;
        info.Environment["QUANTITY"] = quantity.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["USERS"] = "300";
        using var node = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        try
        {
            var output = node.StandardOutput.ReadToEndAsync(timeout.Token);
            var errors = node.StandardError.ReadToEndAsync(timeout.Token);
            await node.WaitForExitAsync(timeout.Token);
            Assert.True(node.ExitCode == 0, $"browser test failed ({node.ExitCode}):\n{await output}\n{await errors}");
            var text = await output;
            Assert.Contains("SOLD_OUT", text, StringComparison.Ordinal);
            Assert.Contains("OPERATED", text, StringComparison.Ordinal); // paused, resumed and added stock from the campaign view
            Assert.Contains("DONE", text, StringComparison.Ordinal);
            Assert.True(new FileInfo(screenshot).Length > 10_000, "screenshot saved");
        }
        finally
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task The_live_stream_counts_every_outcome_across_processes()
    {
        using var admin = new HttpClient { BaseAddress = _watched, Timeout = TimeSpan.FromSeconds(30) };
        var login = await admin.PostAsJsonAsync("/api/v1/auth/token", new { loginId = "admin", password = CouponLiveServer.AdminPassword });
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.ReadJsonAsync())["accessToken"]!.GetValue<string>());
        var created = await admin.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = $"stream-{Guid.NewGuid():N}",
            totalQuantity = 30,
            issueStartsAt = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O"),
            issueEndsAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O"),
        });
        var campaignId = (await created.ReadJsonAsync())["id"]!.GetValue<long>();

        var driver = new SaleDriver([_hit], campaignId, $"stream-{mode}");
        await driver.RunAsync(users: 50, clicks: 2, concurrency: 20, budget: TimeSpan.FromSeconds(30)); // 30 issued, 30 already, 40 sold out
        using (var noToken = new HttpClient { BaseAddress = _hit })
            await noToken.PostAsync($"/api/v1/campaigns/{campaignId}/issue", null); // 1 rejected for its token

        // Figures are published once each second is over: read the stream until they are all in.
        var (totals, snapshot) = await LiveStream.TotalsAsync(admin, campaignId, atLeast: 101);
        Assert.Equal(30, totals["issued"]);
        Assert.Equal(30, totals["already_issued"]);
        Assert.Equal(40, totals["sold_out"]);
        Assert.Equal(1, totals["rejected_auth"]);
        Assert.Equal("sold_out", snapshot["campaign"]!["status"]!.GetValue<string>());
        Assert.Equal(12, snapshot["recent"]!.AsArray().Count);
        Assert.Contains(snapshot["seconds"]!.AsArray(), s => s!["p99Ms"]!.GetValue<double>() > 0);
    }
}

public sealed class EmbeddedDashboardTests() : DashboardTests(ServerMode.Embedded);

public sealed class ProductionDashboardTests() : DashboardTests(ServerMode.Production);
