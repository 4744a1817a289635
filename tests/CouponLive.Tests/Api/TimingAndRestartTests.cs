using Microsoft.Extensions.Time.Testing;
using System.Net;
using System.Net.Http.Headers;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>Embedded mode, where the gate's clock is the injected TimeProvider.</summary>
public sealed class EmbeddedTimingTests
{
    [Fact]
    public async Task A_window_opening_in_two_seconds_is_not_open_before_and_issues_after()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = CouponLiveServer.Start(clock: clock);
        var opens = clock.GetUtcNow().AddSeconds(2);
        var campaign = await server.CreateWindowCampaignAsync(5, opens, opens.AddMinutes(1));
        using var client = server.NewClient(TestTokens.Mint("punctual"));
        var path = $"/api/v1/campaigns/{campaign["id"]}/issue";

        var early = await (await client.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");
        Assert.Equal(opens.ToUnixTimeMilliseconds(), early["opensAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        Assert.Equal("scheduled", (await (await client.GetAsync($"/api/v1/campaigns/{campaign["id"]}")).ReadJsonAsync())["status"]!.GetValue<string>());

        clock.Advance(TimeSpan.FromMilliseconds(1_999));
        await (await client.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var issued = await client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.Equal(opens.ToUnixTimeMilliseconds(), (await issued.ReadJsonAsync())["issuedAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());

        clock.Advance(TimeSpan.FromMinutes(1));
        using var other = server.NewClient(TestTokens.Mint("too-late"));
        await (await other.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.ended");
        var report = await server.CheckAsync(campaign);
        Assert.Equal(1, report.Rows);
        Assert.Empty(report.Violations());
    }

    [Fact]
    public async Task Generated_keys_and_admin_password_are_kept_in_the_data_folder()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("couponlive-keys-").FullName;
        var noSecrets = new Dictionary<string, string?> { ["Auth:SigningKey"] = "", ["Codes:Key"] = "", ["Admin:Password"] = "" };
        string password;
        await using (var first = CouponLiveServer.Start(dataDirectory, settings: noSecrets))
        {
            password = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin-password.txt"))).Trim();
            Assert.True(password.Length >= 16);
            Assert.True(File.Exists(Path.Combine(dataDirectory, "signing-key")));
            Assert.True(File.Exists(Path.Combine(dataDirectory, "code-key")));
        }
        await using var second = CouponLiveServer.Start(dataDirectory, settings: noSecrets);
        var login = await second.Client.PostAsync("/api/v1/auth/token",
            new StringContent($$"""{"loginId":"admin","password":"{{password}}"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }
}

/// <summary>Stop the server and start another over the same state: nothing issued is forgotten or repeated.</summary>
public abstract class RestartTests(ServerMode mode)
{
    [Fact]
    public async Task Restart_on_the_same_state_keeps_coupons_counts_and_gate_state()
    {
        const int quantity = 30;
        var state = await CouponLiveServer.NewStateAsync(mode);
        var codes = new Dictionary<string, string>();
        System.Text.Json.Nodes.JsonObject campaign;
        await using (var first = CouponLiveServer.Start(state))
        {
            campaign = await first.CreateCampaignAsync(quantity);
            for (var u = 0; u < 20; u++)
            {
                using var c = first.NewClient(TestTokens.Mint($"before-{u}"));
                var body = await (await c.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null)).ReadJsonAsync();
                codes[$"before-{u}"] = body["code"]!.GetValue<string>();
            }
        }

        await using var second = CouponLiveServer.Start(state);
        using var admin = second.NewClient(await second.AdminTokenAsync());
        var read = await (await admin.GetAsync($"/api/v1/campaigns/{campaign["id"]}")).ReadJsonAsync();
        Assert.Equal(20, read["issuedCount"]!.GetValue<int>());

        // Earlier holders get their own coupon back, not a second one.
        foreach (var (user, code) in codes)
        {
            using var c = second.NewClient(TestTokens.Mint(user));
            var again = await c.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(code, (await again.ReadJsonAsync())["code"]!.GetValue<string>());
        }

        // New users take exactly the remaining stock, with fresh sequence numbers and codes.
        var statuses = new List<HttpStatusCode>();
        var newCodes = new HashSet<string>();
        for (var u = 0; u < 25; u++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign["id"]}/issue");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint($"after-{u}"));
            var response = await second.Client.SendAsync(request);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.Created) newCodes.Add((await response.ReadJsonAsync())["code"]!.GetValue<string>());
        }
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(15, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Empty(newCodes.Intersect(codes.Values));

        var report = await second.CheckAsync(campaign);
        Assert.Empty(report.Violations());
        Assert.True(report.SoldExactly, report.ToString());
    }
}

public sealed class EmbeddedRestartTests() : RestartTests(ServerMode.Embedded);

public sealed class ProductionRestartTests() : RestartTests(ServerMode.Production);

public sealed class MySqlRestartTests() : RestartTests(ServerMode.ProductionMySql);

/// <summary>Production mode, where Redis's clock decides: real time, polled.</summary>
public sealed class ProductionTimingTests
{
    [Fact]
    public async Task A_window_opening_in_three_seconds_is_not_open_before_and_issues_after()
    {
        await using var server = CouponLiveServer.Start(await CouponLiveServer.NewStateAsync(ServerMode.Production));
        // 3 s out: creating the campaign and the first (cold) issue must come before it opens, even on a busy machine.
        var opens = DateTimeOffset.UtcNow.AddSeconds(3);
        var campaign = await server.CreateWindowCampaignAsync(5, opens, opens.AddMinutes(1));
        using var client = server.NewClient(TestTokens.Mint("punctual"));
        var path = $"/api/v1/campaigns/{campaign["id"]}/issue";

        var early = await (await client.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");
        Assert.Equal(opens.ToUnixTimeMilliseconds(), early["opensAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());

        await Task.Delay(opens - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50));
        var issued = await client.PostAsync(path, null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.True((await issued.ReadJsonAsync())["issuedAt"]!.GetValue<DateTimeOffset>() >= opens.AddMilliseconds(-1));
        var report = await server.CheckAsync(campaign);
        Assert.Equal(1, report.Rows);
        Assert.Empty(report.Violations());
    }
}
