using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Events;

/// <summary>
/// The outbox end to end in every store, transport none: what the API commits reaches the feed as CloudEvents, once
/// each, with what a consumer needs; the feed pages, and only an admin or a service reads it.
/// </summary>
public abstract class EventFeedTests(ServerFixture fixture)
{
    private CouponLiveServer Server => fixture.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every event of the feed from the start, page by page (<paramref name="pageSize"/>).</summary>
    private static async Task<List<JsonObject>> ReadAllAsync(HttpClient reader, int pageSize)
    {
        var events = new List<JsonObject>();
        var after = "0";
        while (true)
        {
            var page = await (await reader.GetAsync($"/api/v1/events?after={after}&limit={pageSize}", Ct)).ReadJsonAsync();
            var items = page["items"]!.AsArray();
            events.AddRange(items.Select(i => i!.AsObject()));
            var next = page["next"]!.GetValue<string>();
            if (items.Count == 0)
            {
                Assert.Equal(after, next); // an empty page keeps the cursor
                return events;
            }
            after = next;
        }
    }

    [Fact]
    public async Task What_a_sale_commits_reaches_the_feed_once_as_cloud_events()
    {
        var campaign = await Server.CreateCampaignAsync(5);
        var id = campaign["id"]!.GetValue<long>();
        var codes = new Dictionary<string, string>(); // user -> code
        for (var i = 0; i < 6; i++)
        {
            var user = $"feed-{id}-{i}";
            using var client = Server.NewClient(TestTokens.Mint(user, "user"));
            var response = await client.PostAsync($"/api/v1/campaigns/{id}/issue", null, Ct);
            if (response.StatusCode == HttpStatusCode.Created) codes[user] = (await response.ReadJsonAsync())["code"]!.GetValue<string>();
            if (i == 0) await client.PostAsync($"/api/v1/campaigns/{id}/issue", null, Ct); // again: the same coupon, no new event
        }
        Assert.Equal(5, codes.Count);
        var (redeemer, redeemedCode) = codes.First();
        using (var holder = Server.NewClient(TestTokens.Mint(redeemer, "user")))
        {
            Assert.Equal(HttpStatusCode.OK, (await holder.PostAsJsonAsync($"/api/v1/coupons/{Uri.EscapeDataString(redeemedCode)}/redeem", new { orderId = "order-1" }, Ct)).StatusCode);
        }

        using var service = Server.NewClient(TestTokens.Mint("checkout", "service"));
        List<JsonObject> mine = [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (mine.Count < 7 && DateTime.UtcNow < deadline) // the relay gives events their place within its poll interval
        {
            await Task.Delay(100, Ct);
            mine = [.. (await ReadAllAsync(service, 1000)).Where(e => e["partitionkey"]?.GetValue<string>() == id.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        }

        Assert.Equal(["couponlive.campaign.created.v1", .. Enumerable.Repeat("couponlive.coupon.issued.v1", 5), "couponlive.coupon.redeemed.v1"],
            mine.Select(e => e["type"]!.GetValue<string>()));
        Assert.All(mine, e =>
        {
            Assert.Equal("1.0", e["specversion"]!.GetValue<string>());
            Assert.Equal("/couponlive", e["source"]!.GetValue<string>());
            Assert.Equal("application/json", e["datacontenttype"]!.GetValue<string>());
            Assert.True(Guid.TryParse(e["id"]!.GetValue<string>(), out _));
            Assert.True(DateTimeOffset.TryParse(e["time"]!.GetValue<string>(), out _));
            Assert.Equal(campaign["name"]!.GetValue<string>(), e["data"]!["campaignName"]!.GetValue<string>());
        });
        Assert.Equal(mine.Count, mine.Select(e => e["id"]!.GetValue<string>()).Distinct().Count());
        var issued = mine.Where(e => e["type"]!.GetValue<string>() == "couponlive.coupon.issued.v1").Select(e => e["data"]!).ToList();
        Assert.Equal(codes.OrderBy(c => c.Key), issued.Select(d => KeyValuePair.Create(d["userId"]!.GetValue<string>(), d["code"]!.GetValue<string>())).OrderBy(c => c.Key));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), issued.Select(d => d["sequence"]!.GetValue<long>()).Order());
        Assert.All(mine.Where(e => e["type"]!.GetValue<string>() != "couponlive.campaign.created.v1"),
            e => Assert.StartsWith($"campaigns/{id}/coupons/", e["subject"]!.GetValue<string>()));
        Assert.Equal("order-1", mine[^1]["data"]!["orderId"]!.GetValue<string>());

        // Pages of two walk the same feed as one read.
        var all = await ReadAllAsync(service, 1000);
        Assert.Equal(all.Select(e => e["id"]!.GetValue<string>()), (await ReadAllAsync(service, 2)).Select(e => e["id"]!.GetValue<string>()).Take(all.Count));

        // The relay counts an event published once it marked it sent, a moment after the event is in the feed.
        var published = new System.Text.RegularExpressions.Regex("couponlive_events_published_total\\{[^}]*type=\"couponlive.coupon.issued.v1\"[^}]*\\} ([0-9]+)");
        var pending = new System.Text.RegularExpressions.Regex("couponlive_events_pending(\\{[^}]*\\})? [0-9]");
        var metrics = "";
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            metrics = await (await Server.Client.GetAsync("/metrics", Ct)).Content.ReadAsStringAsync(Ct);
            if (published.Match(metrics) is { Success: true } m && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5 && pending.IsMatch(metrics)) break;
            await Task.Delay(100, Ct);
        }
        Assert.True(published.Match(metrics) is { Success: true } counted && int.Parse(counted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 5,
            "the relay counted the five issued events published");
        Assert.Matches(pending, metrics);
    }

    [Fact]
    public async Task Only_an_admin_or_a_service_reads_the_feed_and_a_bad_cursor_is_refused()
    {
        using var anonymous = Server.NewClient();
        await (await anonymous.GetAsync("/api/v1/events", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.unauthorized");
        using var user = Server.NewClient(TestTokens.Mint("someone", "user"));
        await (await user.GetAsync("/api/v1/events", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        using var admin = Server.NewClient(TestTokens.Mint("operator", "admin"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/events", Ct)).StatusCode);
        foreach (var query in new[] { "after=abc", "after=-1", "after=99999999999999999999", "limit=0", "limit=1001", "limit=x" })
            await (await admin.GetAsync($"/api/v1/events?{query}", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_paging");

        await (await user.GetAsync("/api/v1/events/backlog", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        // Transport none: the relay marks what the feed holds sent within its poll interval, so the backlog empties.
        JsonObject backlog;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((backlog = await (await admin.GetAsync("/api/v1/events/backlog", Ct)).ReadJsonAsync())["pending"]!.GetValue<long>() > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100, Ct);
        Assert.Equal("none", backlog["transport"]!.GetValue<string>());
        Assert.Equal(0, backlog["pending"]!.GetValue<long>());
        Assert.Null(backlog["oldestPendingSeconds"]);
        Assert.Equal(0, backlog["parked"]!.GetValue<long>());
    }
}

public sealed class EmbeddedEventFeedTests(EmbeddedServerFixture fixture) : EventFeedTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionEventFeedTests(ProductionServerFixture fixture) : EventFeedTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlEventFeedTests(ProductionMySqlServerFixture fixture) : EventFeedTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
