using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

public abstract class CampaignsApiTests(ServerFixture fixture)
{
    protected CouponLiveServer Server => fixture.Server;

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Create_returns_201_with_the_campaign_and_get_reads_it_back()
    {
        var now = DateTimeOffset.UtcNow;
        var name = "봄 세일 " + Guid.NewGuid().ToString("N")[..6];
        var created = await Server.CreateCampaignAsync(0, new
        {
            name,
            totalQuantity = 300,
            windows = new[]
            {
                new { startsAt = Iso(now.AddHours(2).ToOffset(TimeSpan.FromHours(9))), endsAt = Iso(now.AddHours(3)), quota = (int?)100 },
                new { startsAt = Iso(now.AddMinutes(-1)), endsAt = Iso(now.AddHours(1)), quota = (int?)null },
            },
            couponValidUntil = Iso(now.AddDays(30)),
            benefit = new { type = "percent", value = 15.5m },
        });
        Assert.Equal(name, created["name"]!.GetValue<string>());
        Assert.Equal(300, created["totalQuantity"]!.GetValue<int>());
        Assert.Equal("open", created["status"]!.GetValue<string>());

        using var user = Server.NewClient(TestTokens.Mint("reader"));
        var read = await (await user.GetAsync($"/api/v1/campaigns/{created["id"]}")).ReadJsonAsync();
        Assert.Equal(created["id"]!.GetValue<long>(), read["id"]!.GetValue<long>());
        Assert.Equal(0, read["issuedCount"]!.GetValue<int>());
        Assert.Equal(300, read["remaining"]!.GetValue<int>());
        Assert.Equal("open", read["status"]!.GetValue<string>());
        var windows = read["windows"]!.AsArray();
        Assert.Equal(2, windows.Count);
        // Sorted by start: the open window first, then the later one with its quota.
        Assert.True(windows[0]!["startsAt"]!.GetValue<DateTimeOffset>() < windows[1]!["startsAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(100, windows[1]!["quota"]!.GetValue<int>());
        Assert.Equal(0, read["currentWindow"]!["index"]!.GetValue<int>());
        Assert.Equal(1, read["nextWindow"]!["index"]!.GetValue<int>());
        Assert.Equal("percent", read["benefit"]!["type"]!.GetValue<string>());
        Assert.Equal(15.5m, read["benefit"]!["value"]!.GetValue<decimal>());
        Assert.Equal(now.AddDays(30).ToUnixTimeMilliseconds(), read["couponValidUntil"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Schedule_is_expanded_into_windows_in_the_time_zone()
    {
        var tomorrow = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(2));
        var created = await Server.CreateCampaignAsync(0, new
        {
            name = "ten-rounds-" + Guid.NewGuid().ToString("N"),
            totalQuantity = 100_000,
            schedule = new
            {
                timeZone = "Asia/Seoul",
                fromDate = tomorrow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                toDate = tomorrow.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                dailyStartTimes = new[] { "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00" },
                durationSeconds = 60,
                quotaPerWindow = 5_000,
            },
        });
        var windows = created["windows"]!.AsArray();
        Assert.Equal(20, windows.Count);
        Assert.Equal(new DateTimeOffset(tomorrow.ToDateTime(new TimeOnly(1, 0)), TimeSpan.Zero), windows[0]!["startsAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(60, (windows[0]!["endsAt"]!.GetValue<DateTimeOffset>() - windows[0]!["startsAt"]!.GetValue<DateTimeOffset>()).TotalSeconds);
        Assert.All(windows, w => Assert.Equal(5_000, w!["quota"]!.GetValue<int>()));
        Assert.Equal("scheduled", created["status"]!.GetValue<string>());
        Assert.Equal(0, created["nextWindow"]!["index"]!.GetValue<int>());
    }

    [Fact]
    public async Task Duplicate_name_is_409()
    {
        var first = await Server.CreateCampaignAsync(10);
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var again = await admin.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = first["name"]!.GetValue<string>(),
            totalQuantity = 5,
            issueStartsAt = Iso(DateTimeOffset.UtcNow),
            issueEndsAt = Iso(DateTimeOffset.UtcNow.AddHours(1)),
        });
        var problem = await again.AssertProblemAsync(HttpStatusCode.Conflict, "campaign.name_taken");
        Assert.Equal("name", problem["field"]!.GetValue<string>());
    }

    public static TheoryData<string, string, string> InvalidBodies()
    {
        var s = Iso(DateTimeOffset.UtcNow.AddMinutes(5));
        var e = Iso(DateTimeOffset.UtcNow.AddHours(1));
        return new()
        {
            { $$"""{"totalQuantity":1,"issueStartsAt":"{{s}}","issueEndsAt":"{{e}}"}""", "campaign.invalid_name", "name" },
            { $$"""{"name":"a","totalQuantity":0,"issueStartsAt":"{{s}}","issueEndsAt":"{{e}}"}""", "campaign.invalid_quantity", "totalQuantity" },
            { $$"""{"name":"a","totalQuantity":10000001,"issueStartsAt":"{{s}}","issueEndsAt":"{{e}}"}""", "campaign.invalid_quantity", "totalQuantity" },
            { $$"""{"name":"a","totalQuantity":5}""", "campaign.invalid_time_spec", "issueStartsAt" },
            { $$"""{"name":"a","totalQuantity":5,"issueStartsAt":"2030-01-01T10:00:00","issueEndsAt":"{{e}}"}""", "validation.invalid_timestamp", "issueStartsAt" },
            { $$"""{"name":"a","totalQuantity":5,"issueStartsAt":"{{e}}","issueEndsAt":"{{s}}"}""", "campaign.invalid_window", "issueEndsAt" },
            { $$"""{"name":"a","totalQuantity":5,"windows":[{"startsAt":"{{s}}","endsAt":"{{e}}","quota":6}]}""", "campaign.invalid_quota", "windows[0].quota" },
            { $$"""{"name":"a","totalQuantity":5,"windows":[{"startsAt":"{{s}}","endsAt":"{{e}}"},{"startsAt":"{{s}}","endsAt":"{{e}}"}]}""", "campaign.windows_overlap", "windows[1].startsAt" },
            { $$"""{"name":"a","totalQuantity":5,"issueStartsAt":"{{s}}","issueEndsAt":"{{e}}","couponValidUntil":"{{s}}"}""", "campaign.invalid_valid_until", "couponValidUntil" },
            { $$$"""{"name":"a","totalQuantity":5,"issueStartsAt":"{{{s}}}","issueEndsAt":"{{{e}}}","benefit":{"type":"free_lunch","value":1}}""", "campaign.invalid_benefit", "benefit.type" },
            { $$$"""{"name":"a","totalQuantity":5,"schedule":{"timeZone":"Mars/Olympus","fromDate":"2030-01-01","toDate":"2030-01-02","dailyStartTimes":["10:00"],"durationSeconds":60}}""", "campaign.invalid_schedule", "schedule.timeZone" },
            { $$"""{"name":"a","totalQuantity":5,"issueStartsAt":"2001-01-01T00:00:00Z","issueEndsAt":"2001-01-02T00:00:00Z"}""", "campaign.already_ended", "issueEndsAt" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_campaigns_are_400_naming_the_field(string json, string code, string field)
    {
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var response = await admin.PostAsync("/api/v1/campaigns", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(field, problem["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("999999")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("99999999999999999999999")]
    [InlineData("%E2%80%AE")]
    public async Task Unknown_campaign_ids_are_404_campaign_not_found(string id)
    {
        using var user = Server.NewClient(TestTokens.Mint("someone"));
        await (await user.GetAsync($"/api/v1/campaigns/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "campaign.not_found");
        await (await user.PostAsync($"/api/v1/campaigns/{id}/issue", null)).AssertProblemAsync(HttpStatusCode.NotFound, "campaign.not_found");
    }

    [Fact]
    public async Task Coupons_list_is_admin_only_in_sequence_order_and_paged()
    {
        var campaign = await Server.CreateCampaignAsync(25);
        var id = campaign["id"]!.GetValue<long>();
        var issued = new Dictionary<string, string>();
        for (var i = 0; i < 25; i++)
        {
            using var client = Server.NewClient(TestTokens.Mint($"pager-{i}"));
            var body = await (await client.PostAsync($"/api/v1/campaigns/{id}/issue", null)).ReadJsonAsync();
            issued[body["userId"]!.GetValue<string>()] = body["code"]!.GetValue<string>();
        }

        using var user = Server.NewClient(TestTokens.Mint("pager-0"));
        await (await user.GetAsync($"/api/v1/campaigns/{id}/coupons")).AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");

        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var seen = new List<JsonNode>();
        string url = $"/api/v1/campaigns/{id}/coupons?limit=10";
        for (var page = 0; page < 10; page++)
        {
            var body = await (await admin.GetAsync(url)).ReadJsonAsync();
            seen.AddRange(body["items"]!.AsArray().Select(n => n!));
            if (body["next"] is null) break;
            url = $"/api/v1/campaigns/{id}/coupons?limit=10&after={body["next"]}";
        }
        Assert.Equal(25, seen.Count);
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), seen.Select(n => n["sequence"]!.GetValue<long>()));
        foreach (var item in seen)
            Assert.Equal(issued[item["userId"]!.GetValue<string>()], item["code"]!.GetValue<string>());

        await (await admin.GetAsync($"/api/v1/campaigns/{id}/coupons?limit=10001")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_paging");
        await (await admin.GetAsync($"/api/v1/campaigns/{id}/coupons?limit=0")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_paging");
        await (await admin.GetAsync($"/api/v1/campaigns/{id}/coupons?after=-5")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_paging");
    }
}

public sealed class EmbeddedCampaignsApiTests(EmbeddedServerFixture fixture) : CampaignsApiTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionCampaignsApiTests(ProductionServerFixture fixture) : CampaignsApiTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlCampaignsApiTests(ProductionMySqlServerFixture fixture) : CampaignsApiTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
