using System.Net;
using System.Text;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>Hostile and sloppy input: a clear 4xx with a code, and the service keeps working afterwards.</summary>
public abstract class BadInputTests(ServerFixture fixture)
{
    protected CouponLiveServer Server => fixture.Server;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("{")]
    [InlineData("{\"name\": }")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"name\":\"a\",\"totalQuantity\":\"many\"}")]
    [InlineData("{\"name\":\"a\",\"totalQuantity\":1e400}")]
    [InlineData("{\"name\":\"a\",\"totalQuantity\":99999999999999999999999}")]
    [InlineData("{\"name\":\"a\",\"windows\":{\"not\":\"a list\"}}")]
    public async Task Malformed_json_is_400_invalid_json(string body)
    {
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        await (await admin.PostAsync("/api/v1/campaigns", Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_json");
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"loginId\": 12}")]
    [InlineData("{\"loginId\":\"abc\",\"password\":[1]}")]
    public async Task Malformed_sign_up_json_is_400_invalid_json(string body) =>
        await (await Server.Client.PostAsync("/api/v1/users", Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, "request.invalid_json");

    [Fact]
    public async Task Oversized_body_is_413()
    {
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        var huge = "{\"name\":\"" + new string('a', 400_000) + "\"}";
        await (await admin.PostAsync("/api/v1/campaigns", Json(huge))).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request.too_large");
    }

    [Fact]
    public async Task Wrong_media_type_is_415()
    {
        await (await Server.Client.PostAsync("/api/v1/users", new StringContent("loginId=a", Encoding.UTF8, "application/x-www-form-urlencoded")))
            .AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "request.unsupported_media_type");
    }

    [Theory]
    [InlineData(@"\u0000evil")]
    [InlineData(@"name\u200Bwith zero width space")]
    [InlineData(@"\uD800 lone surrogate")]
    [InlineData(@"lone low \uDC00")]
    [InlineData(@"replacement \uFFFD char")]
    [InlineData(@"right-to-left \u202E override")]
    [InlineData("   ")]
    public async Task Odd_unicode_names_are_400_invalid_name(string escapedName)
    {
        using var admin = Server.NewClient(await Server.AdminTokenAsync());
        // Raw JSON text, so the escapes reach the server exactly as written.
        var json = $$"""
            {"name":"{{escapedName}}","totalQuantity":5,
             "issueStartsAt":"{{DateTimeOffset.UtcNow:O}}","issueEndsAt":"{{DateTimeOffset.UtcNow.AddHours(1):O}}"}
            """;
        var response = await admin.PostAsync("/api/v1/campaigns", Json(json));
        if (response.StatusCode == HttpStatusCode.BadRequest && (await response.ReadJsonAsync())["code"]!.GetValue<string>() == "request.invalid_json")
            return; // a JSON reader refusing the escape outright is an equally clear answer
        await (await admin.PostAsync("/api/v1/campaigns", Json(json))).AssertProblemAsync(HttpStatusCode.BadRequest, "campaign.invalid_name");
        Assert.Equal(HttpStatusCode.OK, (await Server.Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Unknown_route_and_wrong_method_have_codes_too()
    {
        await (await Server.Client.GetAsync("/api/v1/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound, "http.not_found");
        using var user = Server.NewClient(TestTokens.Mint("u"));
        await (await user.DeleteAsync("/api/v1/me/coupons")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "http.method_not_allowed");
    }

    [Fact]
    public async Task Health_and_openapi_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Server.Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Server.Client.GetAsync("/health/ready")).StatusCode);
        var openapi = await (await Server.Client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var paths = openapi["paths"]!.AsObject();
        foreach (var path in new[] { "/api/v1/users", "/api/v1/auth/token", "/api/v1/campaigns", "/api/v1/campaigns/{id}", "/api/v1/campaigns/{id}/issue", "/api/v1/campaigns/{id}/coupons", "/api/v1/me/coupons" })
            Assert.True(paths.ContainsKey(path), path);

        // The interactive page over the document.
        var page = await Server.Client.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Server.Client.GetAsync("/scalar/scalar.js")).StatusCode); // its script, served by the service itself
    }
}

public sealed class EmbeddedBadInputTests(EmbeddedServerFixture fixture) : BadInputTests(fixture), IClassFixture<EmbeddedServerFixture>;

public sealed class ProductionBadInputTests(ProductionServerFixture fixture) : BadInputTests(fixture), IClassFixture<ProductionServerFixture>;
