using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Codes;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// Using a coupon, both modes: redeem exactly once (also under concurrency), retries, cancel a redemption, revoke,
/// expiry, who may do it, every refusal's code, the listings' status and the RPC methods.
/// </summary>
public abstract class RedemptionTests(ServerFixture fixture)
{
    private CouponLiveServer Server => fixture.Server;

    private HttpClient Client(string user, string role = "user") => Server.NewClient(TestTokens.Mint(user, role));

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A coupon of a fresh campaign for a fresh user: (holder's client, its user id, code, campaign id).</summary>
    private async Task<(HttpClient Holder, string User, string Code, long CampaignId)> CouponAsync(object? campaignBody = null)
    {
        var campaign = await Server.CreateCampaignAsync(10, campaignBody);
        var id = campaign["id"]!.GetValue<long>();
        var user = Unique("holder");
        var holder = Client(user);
        var response = await holder.PostAsync($"/api/v1/campaigns/{id}/issue", null);
        var issued = await response.ReadJsonAsync();
        // A problem has a "code" too (its error code): only a coupon's code may go on.
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"issuing failed: {(int)response.StatusCode} {issued.ToJsonString()}");
        return (holder, user, issued["code"]!.GetValue<string>(), id);
    }

    private static Task<HttpResponseMessage> RedeemAsync(HttpClient client, string code, string? orderId) =>
        client.PostAsJsonAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/redeem", new { orderId });

    private static Task<HttpResponseMessage> CancelAsync(HttpClient client, string code, string? orderId) =>
        client.PostAsJsonAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/cancel-redemption", new { orderId });

    [Fact]
    public async Task A_coupon_is_redeemed_once_a_retry_gets_the_same_answer_and_another_order_is_refused()
    {
        var (holder, user, code, campaignId) = await CouponAsync();
        var first = await RedeemAsync(holder, code, "order-1");
        var body = await first.ReadJsonAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("redeemed", body["status"]!.GetValue<string>());
        Assert.Equal("order-1", body["orderId"]!.GetValue<string>());
        Assert.Equal(user, body["userId"]!.GetValue<string>());
        var redeemedAt = body["redeemedAt"]!.GetValue<DateTimeOffset>();

        var retry = await (await RedeemAsync(holder, code, "order-1")).ReadJsonAsync();
        Assert.Equal(body.ToJsonString(), retry.ToJsonString()); // the same body
        var other = await (await RedeemAsync(holder, code, "order-2")).AssertProblemAsync(HttpStatusCode.Conflict, "coupon.already_redeemed");
        Assert.Equal(redeemedAt, other["redeemedAt"]!.GetValue<DateTimeOffset>());

        var read = await (await holder.GetAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}")).ReadJsonAsync();
        Assert.Equal("redeemed", read["status"]!.GetValue<string>());
        var mine = (await (await holder.GetAsync("/api/v1/me/coupons")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal("redeemed", Assert.Single(mine)!["status"]!.GetValue<string>());
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var redeemed = (await (await admin.GetAsync($"/api/v1/campaigns/{campaignId}/coupons?status=redeemed")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal(code, Assert.Single(redeemed)!["code"]!.GetValue<string>());
        Assert.Empty((await (await admin.GetAsync($"/api/v1/campaigns/{campaignId}/coupons?status=issued")).ReadJsonAsync())["items"]!.AsArray());
        await (await admin.GetAsync($"/api/v1/campaigns/{campaignId}/coupons?status=used")).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid");
    }

    [Fact]
    public async Task Many_concurrent_redemptions_with_different_orders_have_exactly_one_winner()
    {
        var (holder, _, code, _) = await CouponAsync();
        using var checkout = Server.NewClient(TestTokens.Mint("checkout", "service"), maxConnections: 64);
        var answers = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => RedeemAsync(i % 2 == 0 ? checkout : holder, code, $"race-{i}")));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(63, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        var winner = await answers.Single(a => a.StatusCode == HttpStatusCode.OK).ReadJsonAsync();
        var read = await (await holder.GetAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}")).ReadJsonAsync();
        Assert.Equal(winner["orderId"]!.GetValue<string>(), read["orderId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Only_the_holder_or_a_service_or_admin_token_may_use_a_coupon_and_bad_codes_are_told_apart()
    {
        var (_, _, code, campaignId) = await CouponAsync();
        using (var stranger = Client(Unique("stranger")))
            await (await RedeemAsync(stranger, code, "o")).AssertProblemAsync(HttpStatusCode.Forbidden, "coupon.not_holder");
        using (var service = Client("checkout", "service"))
            Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(service, code, "o")).StatusCode);

        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        // A typo breaks the check character: 400. A well-formed code nobody was issued: 404.
        var typo = code[..^1] + (code[^1] == '1' ? '2' : '1');
        await (await RedeemAsync(admin, typo, "o")).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon.invalid_code");
        var neverIssued = new CouponCodeCodec(System.Text.Encoding.UTF8.GetBytes(TestTokens.CodeKey)).Encode(campaignId, 9_999);
        await (await RedeemAsync(admin, neverIssued, "o")).AssertProblemAsync(HttpStatusCode.NotFound, "coupon.not_found");
        await (await admin.GetAsync("/api/v1/coupons/" + Uri.EscapeDataString(neverIssued))).AssertProblemAsync(HttpStatusCode.NotFound, "coupon.not_found");
        foreach (var order in new[] { "", " ", new string('x', 101), "a\u0000b" })
            await (await RedeemAsync(admin, code, order)).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon.invalid_order_id");
        await (await RedeemAsync(admin, code, null)).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon.invalid_order_id");
    }

    [Fact]
    public async Task A_cancelled_redemption_returns_the_coupon_only_for_its_order_and_a_revoked_coupon_stays_revoked()
    {
        var (holder, _, code, _) = await CouponAsync();
        Assert.Equal(HttpStatusCode.OK, (await RedeemAsync(holder, code, "order-a")).StatusCode);
        await (await CancelAsync(holder, code, "order-b")).AssertProblemAsync(HttpStatusCode.Conflict, "coupon.order_mismatch");
        var back = await (await CancelAsync(holder, code, "order-a")).ReadJsonAsync();
        Assert.Equal("issued", back["status"]!.GetValue<string>());
        Assert.NotNull(back["redemptionCancelledAt"]);
        Assert.Equal("issued", (await (await CancelAsync(holder, code, "order-a")).ReadJsonAsync())["status"]!.GetValue<string>()); // idempotent
        Assert.Equal("redeemed", (await (await RedeemAsync(holder, code, "order-c")).ReadJsonAsync())["status"]!.GetValue<string>());

        await (await holder.PostAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/revoke", null)).AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var revoked = await (await admin.PostAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/revoke", null)).ReadJsonAsync();
        Assert.Equal("revoked", revoked["status"]!.GetValue<string>());
        var again = await (await admin.PostAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/revoke", null)).ReadJsonAsync();
        Assert.Equal(revoked["revokedAt"]!.GetValue<DateTimeOffset>(), again["revokedAt"]!.GetValue<DateTimeOffset>());
        await (await RedeemAsync(holder, code, "order-c")).AssertProblemAsync(HttpStatusCode.Conflict, "coupon.revoked");
        await (await RedeemAsync(holder, code, "order-d")).AssertProblemAsync(HttpStatusCode.Conflict, "coupon.revoked");
    }

    [Fact]
    public async Task After_couponValidUntil_a_coupon_is_expired_and_cannot_be_redeemed()
    {
        var now = DateTimeOffset.UtcNow;
        var (holder, _, code, _) = await CouponAsync(new
        {
            name = Unique("short-lived"),
            totalQuantity = 10,
            issueStartsAt = now.AddSeconds(-1).ToString("O"),
            // Long enough for a cold server's first issue (the suite's first MySQL test once took over a second).
            issueEndsAt = now.AddSeconds(3).ToString("O"),
            couponValidUntil = now.AddSeconds(3.5).ToString("O"),
        });
        await Task.Delay(now.AddSeconds(3.6) - DateTimeOffset.UtcNow);
        await (await RedeemAsync(holder, code, "late")).AssertProblemAsync(HttpStatusCode.Conflict, "coupon.expired");
        Assert.Equal("expired", (await (await holder.GetAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}")).ReadJsonAsync())["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_RPC_methods_redeem_and_read_with_their_status_codes_and_redemptions_are_counted()
    {
        var (holder, user, code, _) = await CouponAsync();
        async Task<(HttpStatusCode Status, JsonObject Body)> Call(HttpClient client, string method, object message)
        {
            var response = await client.PostAsJsonAsync($"/couponlive.v1.CouponService/{method}", message);
            return (response.StatusCode, await response.ReadJsonAsync());
        }

        var (status, redeemed) = await Call(holder, "RedeemCoupon", new { code, orderId = "rpc-1" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("redeemed", redeemed["coupon"]!["status"]!.GetValue<string>());
        var (_, read) = await Call(holder, "GetCoupon", new { code });
        Assert.Equal(user, read["coupon"]!["userId"]!.GetValue<string>());
        var (conflict, error) = await Call(holder, "RedeemCoupon", new { code, orderId = "rpc-2" });
        Assert.Equal(HttpStatusCode.BadRequest, conflict); // failed_precondition
        Assert.StartsWith("coupon.already_redeemed", error["message"]!.GetValue<string>());
        using var stranger = Client(Unique("stranger"));
        var (denied, deniedError) = await Call(stranger, "GetCoupon", new { code });
        Assert.Equal(HttpStatusCode.Forbidden, denied);
        Assert.Equal("permission_denied", deniedError["code"]!.GetValue<string>());

        var metrics = await (await Server.Client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        Assert.Matches("couponlive_redemptions_total\\{[^}]*action=\"redeem\"[^}]*outcome=\"redeemed\"[^}]*\\} [1-9]", metrics);
        Assert.Matches("couponlive_redemptions_total\\{[^}]*action=\"redeem\"[^}]*outcome=\"already_redeemed\"[^}]*\\} [1-9]", metrics);
    }
}

public sealed class EmbeddedRedemptionTests(EmbeddedServerFixture fixture) : RedemptionTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionRedemptionTests(ProductionServerFixture fixture) : RedemptionTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlRedemptionTests(ProductionMySqlServerFixture fixture) : RedemptionTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
