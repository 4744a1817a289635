using System.Net;
using System.Net.Http.Json;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

public abstract class AuthApiTests(ServerFixture fixture)
{
    protected CouponLiveServer Server => fixture.Server;

    private static string NewLogin() => "u" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Sign_up_then_log_in_gives_a_token_that_identifies_the_user()
    {
        var login = NewLogin();
        var created = await Server.Client.PostAsJsonAsync("/api/v1/users", new { loginId = login, password = "correct horse 42" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = await created.ReadJsonAsync();
        Assert.Equal(login, user["loginId"]!.GetValue<string>());
        var userId = user["userId"]!.GetValue<string>();

        var tokenResponse = await Server.Client.PostAsJsonAsync("/api/v1/auth/token", new { loginId = login.ToUpperInvariant(), password = "correct horse 42" });
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        var token = await tokenResponse.ReadJsonAsync();
        Assert.Equal("Bearer", token["tokenType"]!.GetValue<string>());
        Assert.True(token["expiresAt"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(50));

        // The token works on the issue path and names this user.
        var campaign = await Server.CreateCampaignAsync(5);
        using var client = Server.NewClient(token["accessToken"]!.GetValue<string>());
        var issued = await client.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        Assert.Equal(userId, (await issued.ReadJsonAsync())["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Taken_login_id_is_409_case_insensitively()
    {
        var login = NewLogin();
        Assert.Equal(HttpStatusCode.Created, (await Server.Client.PostAsJsonAsync("/api/v1/users", new { loginId = login, password = "correct horse 42" })).StatusCode);
        var again = await Server.Client.PostAsJsonAsync("/api/v1/users", new { loginId = login.ToUpperInvariant(), password = "another pass 77" });
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "user.login_taken");
    }

    [Theory]
    [InlineData(null, "correct horse 42", "user.invalid_login_id")]
    [InlineData("ab", "correct horse 42", "user.invalid_login_id")]
    [InlineData("has space", "correct horse 42", "user.invalid_login_id")]
    [InlineData("한글아이디", "correct horse 42", "user.invalid_login_id")]
    [InlineData("_underscore", "correct horse 42", "user.invalid_login_id")]
    [InlineData("validname1", null, "user.weak_password")]
    [InlineData("validname1", "short", "user.weak_password")]
    [InlineData("validname1", "aaaaaaaaaaaa", "user.weak_password")]
    [InlineData("validname1", "password", "user.weak_password")]
    [InlineData("validname1", "my validname1 pw", "user.weak_password")]
    public async Task Bad_sign_up_is_400_with_the_field(string? loginId, string? password, string code)
    {
        var response = await Server.Client.PostAsJsonAsync("/api/v1/users", new { loginId, password });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(code == "user.weak_password" ? "password" : "loginId", problem["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_are_the_same_401()
    {
        var login = NewLogin();
        await Server.Client.PostAsJsonAsync("/api/v1/users", new { loginId = login, password = "correct horse 42" });
        var wrong = await Server.Client.PostAsJsonAsync("/api/v1/auth/token", new { loginId = login, password = "wrong horse 42" });
        var unknown = await Server.Client.PostAsJsonAsync("/api/v1/auth/token", new { loginId = NewLogin(), password = "correct horse 42" });
        var empty = await Server.Client.PostAsJsonAsync("/api/v1/auth/token", new { });
        var p1 = await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_credentials");
        var p2 = await unknown.AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_credentials");
        await empty.AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_credentials");
        Assert.Equal(p1["detail"]!.GetValue<string>(), p2["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_token_carries_the_admin_role_and_user_tokens_cannot_create_campaigns()
    {
        using var user = Server.NewClient(TestTokens.Mint("plain-user"));
        var body = new { name = "x-" + Guid.NewGuid(), totalQuantity = 1, issueStartsAt = DateTimeOffset.UtcNow.ToString("O"), issueEndsAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") };
        var forbidden = await user.PostAsJsonAsync("/api/v1/campaigns", body);
        await forbidden.AssertProblemAsync(HttpStatusCode.Forbidden, "auth.forbidden");

        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/campaigns", body)).StatusCode);
    }

    public static TheoryData<string, string, string> BadTokens() => new()
    {
        { "no token", "", "auth.unauthorized" },
        { "garbage", "not-a-jwt", "auth.invalid_token" },
        { "bad signature", TestTokens.Mint("mallory", key: "another key that is long enough 123456"), "auth.invalid_token" },
        { "expired", TestTokens.Mint("late", lifetime: TimeSpan.FromMinutes(-10)), "auth.token_expired" },
        { "wrong audience", TestTokens.Mint("eve", audience: "someone-else"), "auth.invalid_token" },
        { "wrong issuer", TestTokens.Mint("eve", issuer: "someone-else"), "auth.invalid_token" },
        { "alg none", TestTokens.UnsignedToken("mallory"), "auth.invalid_token" },
        { "no sub", TestTokens.Mint(null), "auth.invalid_token" },
        { "control char sub", TestTokens.Mint("bad\u0001sub"), "auth.invalid_token" },
        { "overlong sub", TestTokens.Mint(new string('x', 129)), "auth.invalid_token" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Bad_tokens_are_401_with_a_code_on_every_protected_route(string why, string token, string code)
    {
        var campaign = await Server.CreateCampaignAsync(5);
        using var client = Server.NewClient(token.Length == 0 ? null : token);
        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Post, $"/api/v1/campaigns/{campaign["id"]}/issue"),
                     (HttpMethod.Get, $"/api/v1/campaigns/{campaign["id"]}"),
                     (HttpMethod.Get, "/api/v1/me/coupons"),
                     (HttpMethod.Get, $"/api/v1/campaigns/{campaign["id"]}/coupons"),
                     (HttpMethod.Post, "/api/v1/campaigns"),
                 })
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, path));
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized, code);
            Assert.True(response.Headers.WwwAuthenticate.Count > 0, why);
        }
        var issued = await Server.CheckAsync(campaign);
        Assert.Equal(0, issued.Rows);
    }

    [Fact]
    public async Task A_remembered_token_is_matched_whole_so_altered_copies_are_still_refused()
    {
        var campaign = await Server.CreateCampaignAsync(5);
        var path = $"/api/v1/campaigns/{campaign["id"]}/issue";
        var token = TestTokens.Mint("cache-" + Guid.NewGuid().ToString("N")[..8]);
        using (var client = Server.NewClient(token))
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync(path, null)).StatusCode); // validated, then remembered
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync(path, null)).StatusCode);      // from the cache
        }

        var parts = token.Split('.');
        var otherSignature = parts[2][..^2] + (parts[2][^2] == 'A' ? "B" : "A") + parts[2][^1];
        var mallory = TestTokens.Mint("mallory").Split('.')[1];
        foreach (var forged in new[] { $"{parts[0]}.{parts[1]}.{otherSignature}", $"{parts[0]}.{mallory}.{parts[2]}", token + "x", token + "." })
        {
            using var client = Server.NewClient(forged);
            await (await client.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_token");
        }
        Assert.Equal(1, (await Server.CheckAsync(campaign)).Rows);
    }

    [Fact]
    public async Task Token_for_a_user_who_never_signed_up_here_can_issue()
    {
        var campaign = await Server.CreateCampaignAsync(5);
        using var client = Server.NewClient(TestTokens.Mint("external-idp|42"));
        var response = await client.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("external-idp|42", (await response.ReadJsonAsync())["userId"]!.GetValue<string>());
    }
}

public sealed class EmbeddedAuthApiTests(EmbeddedServerFixture fixture) : AuthApiTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionAuthApiTests(ProductionServerFixture fixture) : AuthApiTests(fixture), IClassFixture<ProductionServerFixture>;

public sealed class MySqlAuthApiTests(ProductionMySqlServerFixture fixture) : AuthApiTests(fixture), IClassFixture<ProductionMySqlServerFixture>;
