using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// Operating a live campaign through the REST routes and the RPC methods (Connect JSON), one server process per
/// mode: pause and resume, merge-patch changes with ETag/If-Match, ending the open window, cancel, the audit trail.
/// The same operations across three processes in the middle of a sale are in Faults/CampaignOperationsDrills.
/// </summary>
public abstract class CampaignOperationsTests(ServerFixture fixture)
{
    private CouponLiveServer Server => fixture.Server;


    private async Task<HttpClient> AdminAsync() => Server.NewClient(await Server.AdminTokenAsync());


    private static Task<HttpResponseMessage> IssueAsync(HttpClient client, long id) => client.PostAsync($"/api/v1/campaigns/{id}/issue", null);

    private HttpClient User(string name) => Server.NewClient(TestTokens.Mint(name + "-" + Guid.NewGuid().ToString("N")[..8]));

    [Fact]
    public async Task Pause_stops_new_coupons_at_once_holders_keep_theirs_and_resume_reopens()
    {
        var id = (await Server.CreateCampaignAsync(10))["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using var holder = User("holder");
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(holder, id)).StatusCode);

        var pausedResponse = await admin.PostAsync($"/api/v1/campaigns/{id}/pause", null);
        var paused = await pausedResponse.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.OK, pausedResponse.StatusCode);
        Assert.Equal("paused", paused["status"]!.GetValue<string>());
        var pausedAt = paused["pausedAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal($"\"{paused["version"]}\"", pausedResponse.Headers.ETag!.Tag);

        using (var late = User("late"))
            await (await IssueAsync(late, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.paused");
        var again = await IssueAsync(holder, id);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode); // the holder's retry still gets the coupon
        Assert.True((await again.ReadJsonAsync())["alreadyIssued"]!.GetValue<bool>());

        // Pausing twice is a no-op: the same instant, no new version.
        var twice = await (await admin.PostAsync($"/api/v1/campaigns/{id}/pause", null)).ReadJsonAsync();
        Assert.Equal(pausedAt, twice["pausedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(paused["version"]!.GetValue<int>(), twice["version"]!.GetValue<int>());

        var resumed = await (await admin.PostAsync($"/api/v1/campaigns/{id}/resume", null)).ReadJsonAsync();
        Assert.Equal("open", resumed["status"]!.GetValue<string>());
        Assert.Null(resumed["pausedAt"]);
        using (var after = User("after"))
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(after, id)).StatusCode);

        var audit = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/audit")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(["resume", "pause"], audit.Select(e => e!["action"]!.GetValue<string>()));
        // Who: the admin's user id (the token's subject), the same for both.
        Assert.Single(audit.Select(e => e!["actor"]!.GetValue<string>()).Distinct(), a => a.Length > 0);
        Assert.Equal("paused", audit[1]!["changes"]![0]!["to"]!.GetValue<string>());
        var report = await Server.CheckAsync(resumed);
        Assert.True(report.Violations().Count == 0, report.ToString());
    }

    [Fact]
    public async Task A_crowd_racing_a_pause_gets_no_coupon_admitted_after_pausedAt()
    {
        var campaign = await Server.CreateCampaignAsync(100_000);
        var id = campaign["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using var crowd = Server.NewClient(maxConnections: 32);
        using var stop = new CancellationTokenSource();
        var answers = new System.Collections.Concurrent.ConcurrentBag<(DateTimeOffset Sent, HttpStatusCode Status, string? Code)>();
        var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint($"racer-{w}-{i}"));
                var sent = DateTimeOffset.UtcNow;
                using var response = await crowd.SendAsync(request);
                var code = response.StatusCode == HttpStatusCode.Conflict ? (await response.ReadJsonAsync())["code"]?.GetValue<string>() : null;
                answers.Add((sent, response.StatusCode, code));
            }
        })).ToList();

        // Waits for what happened, not for a time a fast machine needs: coupons issued before the pause, then
        // requests sent after it was answered (each bounded generously).
        async Task UntilAsync(Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(condition(), $"{what} within 30 s");
        }
        await UntilAsync(() => answers.Count(a => a.Status == HttpStatusCode.Created) >= 20, "20 coupons issued before the pause");
        var paused = await (await admin.PostAsync($"/api/v1/campaigns/{id}/pause", null)).ReadJsonAsync();
        var pausedAnswered = DateTimeOffset.UtcNow;
        await UntilAsync(() => answers.Count(a => a.Sent > pausedAnswered) >= 50, "50 requests answered after the pause");
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var pausedAt = paused["pausedAt"]!.GetValue<DateTimeOffset>();
        var (coupons, _) = await ListCouponsAsync(admin, id);
        Assert.NotEmpty(coupons);
        Assert.All(coupons, c => Assert.True(c.IssuedAt <= pausedAt, $"coupon issued at {c.IssuedAt:O} after the pause at {pausedAt:O}"));
        // Every request sent after the pause was answered is refused as paused, and some were.
        var late = answers.Where(a => a.Sent > pausedAnswered).ToList();
        Assert.NotEmpty(late);
        Assert.All(late, a => Assert.Equal("campaign.paused", a.Code));
        var report = await Server.CheckAsync(campaign);
        Assert.True(report.Violations().Count == 0, report.ToString());
        Assert.Equal(coupons.Count, report.Rows);
    }

    [Fact]
    public async Task Patch_changes_stock_name_and_validity_with_ETag_and_refuses_what_it_must()
    {
        var id = (await Server.CreateCampaignAsync(3))["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        for (var i = 0; i < 3; i++)
        {
            using var u = User("stock");
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(u, id)).StatusCode);
        }
        using (var u = User("stock"))
            await (await IssueAsync(u, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.sold_out");

        var read = await admin.GetAsync($"/api/v1/campaigns/{id}");
        var etag = read.Headers.ETag!.Tag;
        var raised = await admin.PatchCampaignAsync(id, """{"totalQuantity": 5, "name": "  Renamed sale  ", "couponValidUntil": "2099-01-01T00:00:00Z"}""", etag);
        var body = await raised.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        Assert.Equal(5, body["totalQuantity"]!.GetValue<int>());
        Assert.StartsWith("Renamed sale", body["name"]!.GetValue<string>());
        Assert.NotEqual(etag, raised.Headers.ETag!.Tag);
        // The next admission sees the new quantity at once: exactly two more.
        var more = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var u = User("more");
            more.Add((await IssueAsync(u, id)).StatusCode);
        }
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.Conflict], more);

        // A stale ETag: 412, nothing changed. Below the issued count: 409. Clearing with null removes the field.
        await (await admin.PatchCampaignAsync(id, """{"totalQuantity": 9}""", etag)).AssertProblemAsync(HttpStatusCode.PreconditionFailed, "campaign.changed");
        var below = await (await admin.PatchCampaignAsync(id, """{"totalQuantity": 4}""")).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.quantity_below_issued");
        Assert.Equal("totalQuantity", below["field"]!.GetValue<string>());
        var cleared = await (await admin.PatchCampaignAsync(id, """{"couponValidUntil": null}""")).ReadJsonAsync();
        Assert.Null(cleared["couponValidUntil"]);
        Assert.Equal(5, cleared["totalQuantity"]!.GetValue<int>());

        // Bad patches: 400 with the field, never a change.
        await (await admin.PatchCampaignAsync(id, """{"totalQuantiy": 9}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid");
        await (await admin.PatchCampaignAsync(id, """{"totalQuantity": "9"}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid");
        await (await admin.PatchCampaignAsync(id, """[1]""")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid");
        await (await admin.PatchCampaignAsync(id, """{"name": null}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid");
        await (await admin.PatchCampaignAsync(id, """{"totalQuantity": 0}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "campaign.invalid_quantity");
        using (var user = User("nobody"))
            await (await user.PatchCampaignAsync(id, """{"totalQuantity": 9}""")).AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        await (await admin.PatchCampaignAsync(999_999, """{"totalQuantity": 9}""")).AssertProblemAsync(HttpStatusCode.NotFound, "campaign.not_found");
        var final = await (await admin.GetAsync($"/api/v1/campaigns/{id}")).ReadJsonAsync();
        Assert.Equal(5, final["totalQuantity"]!.GetValue<int>());

        var audit = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/audit")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(2, audit.Count); // the raise and the clearing; refusals leave no entry
        var fields = audit[1]!["changes"]!.AsArray().Select(c => c!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["name", "totalQuantity", "couponValidUntil"], fields);
    }

    [Fact]
    public async Task A_late_user_told_sold_out_gets_a_coupon_at_once_when_stock_is_raised()
    {
        var id = (await Server.CreateCampaignAsync(1))["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using (var winner = User("first"))
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(winner, id)).StatusCode);
        using var late = User("late");
        for (var i = 0; i < 3; i++) await (await IssueAsync(late, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.sold_out");

        // An operator's raise is a new campaign version: a refusal the process remembers (Redis:SoldOutMemory) no longer holds.
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchCampaignAsync(id, """{"totalQuantity": 2}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(late, id)).StatusCode);
    }

    [Fact]
    public async Task Windows_change_only_ahead_and_ending_the_open_one_stops_issuing_until_the_next()
    {
        var now = DateTimeOffset.UtcNow;
        var campaign = await Server.CreateCampaignAsync(0, new
        {
            name = "rounds-" + Guid.NewGuid().ToString("N"),
            totalQuantity = 100,
            windows = new object[]
            {
                new { startsAt = CampaignRequests.Iso(now.AddSeconds(-5)), endsAt = CampaignRequests.Iso(now.AddMinutes(10)) },
                new { startsAt = CampaignRequests.Iso(now.AddMinutes(20)), endsAt = CampaignRequests.Iso(now.AddMinutes(30)) },
            },
        });
        var id = campaign["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using (var first = User("round1"))
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(first, id)).StatusCode);

        // A started window cannot move its start; a new window cannot start in the past.
        var moved = await admin.PatchCampaignAsync(id, $$"""{"windows": [{"startsAt": "{{CampaignRequests.Iso(now.AddSeconds(-4))}}", "endsAt": "{{CampaignRequests.Iso(now.AddMinutes(10))}}"}]}""");
        Assert.Equal("windows[0]", (await moved.AssertProblemAsync(HttpStatusCode.Conflict, "campaign.window_started"))["field"]!.GetValue<string>());

        var ended = await admin.PostAsync($"/api/v1/campaigns/{id}/windows/current/end", null);
        var endedBody = await ended.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var endsAt = endedBody["windows"]![0]!["endsAt"]!.GetValue<DateTimeOffset>();
        Assert.True(endsAt <= DateTimeOffset.UtcNow, $"window 0 ends at {endsAt:O}");
        using (var u = User("between"))
        {
            var refused = await (await IssueAsync(u, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");
            Assert.Equal(now.AddMinutes(20).ToUnixTimeMilliseconds(), refused["opensAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
        }
        await (await admin.PostAsync($"/api/v1/campaigns/{id}/windows/current/end", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.no_current_window");

        // Bring the next round forward (the ended one stays as it is): issuing resumes when it opens.
        // 3 s out: the PATCH and the early click must land before it opens, even on a busy machine.
        var opens = DateTimeOffset.UtcNow.AddSeconds(3);
        var patched = await admin.PatchCampaignAsync(id, $$"""
            {"windows": [{"startsAt": "{{CampaignRequests.Iso(now.AddSeconds(-5))}}", "endsAt": "{{CampaignRequests.Iso(endsAt)}}"}, {"startsAt": "{{CampaignRequests.Iso(opens)}}", "endsAt": "{{CampaignRequests.Iso(opens.AddMinutes(5))}}", "quota": 10}]}
            """);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using (var early = User("early"))
            await (await IssueAsync(early, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.not_open");
        await Task.Delay(opens - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100));
        using (var second = User("round2"))
        {
            var issued = await IssueAsync(second, id);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        }
        var (coupons, _) = await ListCouponsAsync(admin, id);
        Assert.Equal(2, coupons.Count);
        Assert.True(coupons[0].IssuedAt < endsAt && coupons[1].IssuedAt >= opens.AddMilliseconds(-1));
        var report = await Server.CheckAsync(campaign);
        Assert.True(report.Violations().Count == 0, report.ToString());
        var audit = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/audit")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(["update", "end_window"], audit.Select(e => e!["action"]!.GetValue<string>()));
        Assert.Equal("windows[0].endsAt", audit[1]!["changes"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancel_ends_the_campaign_for_good_and_can_revoke_the_issued_coupons()
    {
        var campaign = await Server.CreateCampaignAsync(10);
        var id = campaign["id"]!.GetValue<long>();
        using var admin = await AdminAsync();
        using var holder = User("holder");
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(holder, id)).StatusCode);

        var cancelled = await (await admin.PostAsync($"/api/v1/campaigns/{id}/cancel", null)).ReadJsonAsync();
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.NotNull(cancelled["cancelledAt"]);
        using (var late = User("late"))
            await (await IssueAsync(late, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.cancelled");
        Assert.Equal(HttpStatusCode.OK, (await IssueAsync(holder, id)).StatusCode); // kept: not revoked
        await (await admin.PostAsync($"/api/v1/campaigns/{id}/resume", null)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.cancelled");
        await (await admin.PatchCampaignAsync(id, """{"totalQuantity": 20}""")).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.cancelled");

        var revoked = await (await admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/cancel", new { revokeIssued = true })).ReadJsonAsync();
        Assert.True(revoked["issuedRevoked"]!.GetValue<bool>());
        await (await IssueAsync(holder, id)).AssertProblemAsync(HttpStatusCode.Conflict, "campaign.cancelled");
        var mine = (await (await holder.GetAsync("/api/v1/me/coupons")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal("revoked", Assert.Single(mine)!["status"]!.GetValue<string>());
        var audit = (await (await admin.GetAsync($"/api/v1/campaigns/{id}/audit")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(["cancel", "cancel"], audit.Select(e => e!["action"]!.GetValue<string>()));
        Assert.Equal("issuedRevoked", audit[0]!["changes"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_RPC_methods_pause_resume_and_update_with_their_status_codes()
    {
        var id = (await Server.CreateCampaignAsync(5))["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var admin = await AdminAsync();
        async Task<(HttpStatusCode Status, JsonObject Body)> Call(HttpClient client, string method, object message)
        {
            var response = await client.PostAsJsonAsync($"/couponlive.v1.CouponService/{method}", message);
            return (response.StatusCode, await response.ReadJsonAsync());
        }

        var (status, paused) = await Call(admin, "PauseCampaign", new { id });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("paused", paused["campaign"]!["status"]!.GetValue<string>());
        Assert.NotNull(paused["campaign"]!["pausedAt"]);
        var etag = paused["campaign"]!["etag"]!.GetValue<string>();

        var (issueStatus, issueError) = await Call(User("rpc"), "IssueCoupon", new { campaignId = id });
        Assert.Equal(HttpStatusCode.BadRequest, issueStatus); // failed_precondition
        Assert.Equal("failed_precondition", issueError["code"]!.GetValue<string>());
        Assert.StartsWith("campaign.paused", issueError["message"]!.GetValue<string>());

        var (_, resumed) = await Call(admin, "ResumeCampaign", new { id, ifMatch = etag });
        Assert.Equal("open", resumed["campaign"]!["status"]!.GetValue<string>());
        var (staleStatus, stale) = await Call(admin, "UpdateCampaign", new { id, ifMatch = etag, amount = "9" });
        Assert.Equal(HttpStatusCode.Conflict, staleStatus);
        Assert.Equal("aborted", stale["code"]!.GetValue<string>());
        var (_, updated) = await Call(admin, "UpdateCampaign", new { id, amount = "9" });
        Assert.Equal("9", updated["campaign"]!["amount"]!.GetValue<string>());
        var (deniedStatus, denied) = await Call(User("rpc"), "PauseCampaign", new { id });
        Assert.Equal(HttpStatusCode.Forbidden, deniedStatus);
        Assert.Equal("permission_denied", denied["code"]!.GetValue<string>());
        var (windowStatus, noWindow) = await Call(admin, "UpdateCampaign", new { id, endCurrentWindow = true, amount = "10" });
        Assert.Equal(HttpStatusCode.BadRequest, windowStatus);
        Assert.Equal("invalid_argument", noWindow["code"]!.GetValue<string>());
    }

    private static async Task<(List<(string User, DateTimeOffset IssuedAt)> Coupons, int Count)> ListCouponsAsync(HttpClient admin, long id)
    {
        var coupons = new List<(string, DateTimeOffset)>();
        var url = $"/api/v1/campaigns/{id}/coupons?limit=10000";
        while (true)
        {
            var page = await (await admin.GetAsync(url)).ReadJsonAsync();
            coupons.AddRange(page["items"]!.AsArray().Select(c => (c!["userId"]!.GetValue<string>(), c["issuedAt"]!.GetValue<DateTimeOffset>())));
            if (page["next"] is null) break;
            url = $"/api/v1/campaigns/{id}/coupons?limit=10000&after={page["next"]}";
        }
        coupons.Sort((a, b) => a.Item2.CompareTo(b.Item2));
        return (coupons, coupons.Count);
    }
}

public sealed class EmbeddedCampaignOperationsTests(EmbeddedServerFixture fixture) : CampaignOperationsTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionCampaignOperationsTests(ProductionServerFixture fixture) : CampaignOperationsTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlCampaignOperationsTests(ProductionMySqlServerFixture fixture) : CampaignOperationsTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
