using System.Net;
using System.Net.Http.Json;
using CouponLive.Codes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

public abstract class IssueApiTests(ServerFixture fixture)
{
    protected CouponLiveServer Server => fixture.Server;

    private static string Iso(DateTimeOffset t) => t.ToString("O");

    [Fact]
    public async Task First_issue_is_201_and_a_retry_is_200_with_the_same_coupon()
    {
        var validUntil = DateTimeOffset.UtcNow.AddDays(7);
        var campaign = await Server.CreateCampaignAsync(0, new
        {
            name = "retry-" + Guid.NewGuid(),
            totalQuantity = 10,
            issueStartsAt = Iso(DateTimeOffset.UtcNow.AddSeconds(-5)),
            issueEndsAt = Iso(DateTimeOffset.UtcNow.AddHours(1)),
            couponValidUntil = Iso(validUntil),
        });
        var id = campaign["id"]!.GetValue<long>();
        using var client = Server.NewClient(TestTokens.Mint("retrier"));

        var first = await client.PostAsync($"/api/v1/campaigns/{id}/issue", null);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var coupon = await first.ReadJsonAsync();
        Assert.False(coupon["alreadyIssued"]!.GetValue<bool>());
        Assert.Equal(id, coupon["campaignId"]!.GetValue<long>());
        Assert.Equal("retrier", coupon["userId"]!.GetValue<string>());
        Assert.Equal(1, coupon["sequence"]!.GetValue<long>());
        Assert.Equal(validUntil.ToUnixTimeMilliseconds(), coupon["validUntil"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        var code = coupon["code"]!.GetValue<string>();
        Assert.Equal(CouponCodeCodec.Length, code.Length);
        Assert.True(CouponCodeCodec.HasValidCheck(code));

        var second = await client.PostAsync($"/api/v1/campaigns/{id}/issue", null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var again = await second.ReadJsonAsync();
        Assert.True(again["alreadyIssued"]!.GetValue<bool>());
        foreach (var field in new[] { "code", "sequence", "issuedAt", "userId", "campaignId" })
            Assert.Equal(coupon[field]!.ToJsonString(), again[field]!.ToJsonString());

        var mine = await (await client.GetAsync("/api/v1/me/coupons")).ReadJsonAsync();
        var item = Assert.Single(mine["items"]!.AsArray());
        Assert.Equal(code, item!["code"]!.GetValue<string>());
        Assert.Equal(campaign["name"]!.GetValue<string>(), item["campaignName"]!.GetValue<string>());

        var report = await Server.CheckAsync(campaign);
        Assert.Equal(1, report.Rows);
        Assert.Empty(report.Violations());
    }

    [Fact]
    public async Task Sold_out_is_409_and_the_campaign_says_sold_out()
    {
        var campaign = await Server.CreateCampaignAsync(2);
        var id = campaign["id"];
        for (var i = 0; i < 2; i++)
        {
            using var c = Server.NewClient(TestTokens.Mint($"buyer-{i}"));
            Assert.Equal(HttpStatusCode.Created, (await c.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode);
        }
        using var late = Server.NewClient(TestTokens.Mint("late-buyer"));
        await (await late.PostAsync($"/api/v1/campaigns/{id}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.sold_out");
        var read = await (await late.GetAsync($"/api/v1/campaigns/{id}")).ReadJsonAsync();
        Assert.Equal("sold_out", read["status"]!.GetValue<string>());
        Assert.Equal(0, read["remaining"]!.GetValue<int>());
        // A holder retrying after the sell-out still gets their coupon.
        using var holder = Server.NewClient(TestTokens.Mint("buyer-0"));
        Assert.Equal(HttpStatusCode.OK, (await holder.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode);
    }

    [Fact]
    public async Task Window_quota_is_409_window_sold_out_with_the_next_opening()
    {
        var now = DateTimeOffset.UtcNow;
        var campaign = await Server.CreateCampaignAsync(0, new
        {
            name = "quota-" + Guid.NewGuid(),
            totalQuantity = 10,
            windows = new[]
            {
                new { startsAt = Iso(now.AddSeconds(-5)), endsAt = Iso(now.AddMinutes(10)), quota = (int?)2 },
                new { startsAt = Iso(now.AddHours(1)), endsAt = Iso(now.AddHours(2)), quota = (int?)null },
            },
        });
        var id = campaign["id"];
        for (var i = 0; i < 2; i++)
        {
            using var c = Server.NewClient(TestTokens.Mint($"quota-{i}"));
            Assert.Equal(HttpStatusCode.Created, (await c.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode);
        }
        using var third = Server.NewClient(TestTokens.Mint("quota-2"));
        var problem = await (await third.PostAsync($"/api/v1/campaigns/{id}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.window_sold_out");
        Assert.Equal(now.AddHours(1).ToUnixTimeMilliseconds(), problem["opensAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        var read = await (await third.GetAsync($"/api/v1/campaigns/{id}")).ReadJsonAsync();
        Assert.Equal("between_windows", read["status"]!.GetValue<string>());
        Assert.Equal(2, read["windows"]![0]!["issuedCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task Before_the_window_is_409_not_open_with_opens_at()
    {
        var opens = DateTimeOffset.UtcNow.AddHours(1);
        var campaign = await Server.CreateWindowCampaignAsync(10, opens, opens.AddHours(1));
        using var c = Server.NewClient(TestTokens.Mint("early-bird"));
        var problem = await (await c.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");
        Assert.Equal(opens.ToUnixTimeMilliseconds(), problem["opensAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        Assert.Equal(0, (await Server.CheckAsync(campaign)).Rows);
    }

    [Fact]
    public async Task After_the_window_is_409_ended()
    {
        // Ends 2 s out: creating the campaign (admin login, password hash) can take over 300 ms on a busy machine.
        var endsAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var campaign = await Server.CreateWindowCampaignAsync(10, DateTimeOffset.UtcNow.AddSeconds(-5), endsAt);
        await Task.Delay(endsAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300));
        using var c = Server.NewClient(TestTokens.Mint("too-late"));
        await (await c.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.ended");
        var read = await (await c.GetAsync($"/api/v1/campaigns/{campaign["id"]}")).ReadJsonAsync();
        Assert.Equal("ended", read["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Validate_tells_anyone_about_typos_and_admins_about_the_holder()
    {
        var campaign = await Server.CreateCampaignAsync(3);
        using var user = Server.NewClient(TestTokens.Mint("validator"));
        var code = (await (await user.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null)).ReadJsonAsync())["code"]!.GetValue<string>();

        var plain = await (await user.PostAsJsonAsync("/api/v1/coupons/validate", new { code })).ReadJsonAsync();
        Assert.True(plain["checkCharacterValid"]!.GetValue<bool>());
        Assert.Null(plain["issued"]);
        Assert.Null(plain["userId"]);

        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var full = await (await admin.PostAsJsonAsync("/api/v1/coupons/validate", new { code = code[..4] + " - " + code[4..] })).ReadJsonAsync();
        Assert.Equal(code, full["code"]!.GetValue<string>());
        Assert.True(full["issued"]!.GetValue<bool>());
        Assert.Equal("validator", full["userId"]!.GetValue<string>());
        Assert.Equal(campaign["id"]!.GetValue<long>(), full["campaignId"]!.GetValue<long>());

        var alphabet = CouponCodeCodec.Alphabet;
        var typo = string.Concat(code[..3], alphabet[(alphabet.IndexOf(code[3], StringComparison.Ordinal) + 1) % alphabet.Length], code[4..]);
        var typoResult = await (await admin.PostAsJsonAsync("/api/v1/coupons/validate", new { code = typo })).ReadJsonAsync();
        Assert.False(typoResult["checkCharacterValid"]!.GetValue<bool>());

        var junk = await (await user.PostAsJsonAsync("/api/v1/coupons/validate", new { code = "🎟️🎟️" })).ReadJsonAsync();
        Assert.False(junk["checkCharacterValid"]!.GetValue<bool>());
        await (await user.PostAsJsonAsync("/api/v1/coupons/validate", new { })).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon.invalid_code");
    }
}

public sealed class EmbeddedIssueApiTests(EmbeddedServerFixture fixture) : IssueApiTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionIssueApiTests(ProductionServerFixture fixture) : IssueApiTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlIssueApiTests(ProductionMySqlServerFixture fixture) : IssueApiTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
