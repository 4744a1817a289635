using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CouponLive.Tests.Unit;

/// <summary>The cache of validated tokens, driven through the two JwtBearer events it hooks.</summary>
public sealed class ValidatedTokenCacheTests
{
    private static readonly AuthenticationScheme Scheme = new(JwtBearerDefaults.AuthenticationScheme, null, typeof(JwtBearerHandler));
    private static readonly JwtBearerOptions Options = new();

    private static void Validated(ValidatedTokenCache cache, string token)
    {
        var jwt = new JsonWebToken(token);
        var identity = new ClaimsIdentity(jwt.Claims, "test", "sub", "role"); // as JwtBearer hands it over: every claim
        cache.Remember(new TokenValidatedContext(new DefaultHttpContext(), Scheme, Options) { Principal = new ClaimsPrincipal(identity), SecurityToken = jwt });
    }

    private static MessageReceivedContext Received(ValidatedTokenCache cache, string authorization)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.Authorization = authorization;
        var context = new MessageReceivedContext(http, Scheme, Options);
        cache.OnMessageReceived(context);
        return context;
    }

    [Fact]
    public void A_validated_token_is_answered_from_the_cache_with_only_sub_and_role()
    {
        using var cache = new ValidatedTokenCache(100, TimeSpan.Zero);
        var token = TestTokens.Mint("alice", role: "admin");
        var before = Received(cache, "Bearer " + token);
        Assert.Null(before.Result);
        Assert.Equal(token, before.Token); // a miss hands the parsed token on to validation

        Validated(cache, token);
        var hit = Received(cache, "bearer " + token); // the scheme name is case-insensitive, as in JwtBearer
        Assert.True(hit.Result?.Succeeded);
        var principal = hit.Result!.Principal!;
        Assert.Equal("alice", principal.UserId());
        Assert.True(principal.IsInRole("admin"));
        Assert.True(principal.Identity!.IsAuthenticated);
        Assert.Equal(["role", "sub"], principal.Claims.Select(c => c.Type).Order());
    }

    [Fact]
    public void Other_tokens_and_other_headers_miss()
    {
        using var cache = new ValidatedTokenCache(100, TimeSpan.Zero);
        var token = TestTokens.Mint("bob");
        Validated(cache, token);
        Assert.Null(Received(cache, "Bearer " + TestTokens.Mint("carol")).Result);
        Assert.Null(Received(cache, "Basic " + token).Result);
        Assert.Null(Received(cache, "Bearer " + token[..^1]).Result);
        Assert.Null(Received(cache, "").Result);
    }

    [Fact]
    public async Task An_entry_ends_when_the_token_expires_plus_the_clock_skew()
    {
        using var cache = new ValidatedTokenCache(100, TimeSpan.FromSeconds(1));
        var token = TestTokens.Mint("dave", lifetime: TimeSpan.FromSeconds(1)); // exp has whole seconds: 0-1 s from now
        Validated(cache, token);
        Assert.True(Received(cache, "Bearer " + token).Result?.Succeeded);
        await Task.Delay(TimeSpan.FromSeconds(2.2)); // past exp + skew
        Assert.Null(Received(cache, "Bearer " + token).Result);
    }

    [Fact]
    public void Size_zero_turns_the_cache_off()
    {
        using var cache = new ValidatedTokenCache(0, TimeSpan.Zero);
        var token = TestTokens.Mint("erin");
        Validated(cache, token);
        var context = Received(cache, "Bearer " + token);
        Assert.Null(context.Result);
        Assert.Null(context.Token); // JwtBearer reads the header itself
    }

    [Fact]
    public void The_cache_holds_at_most_its_capacity_and_keeps_the_tokens_still_in_use()
    {
        using var cache = new ValidatedTokenCache(1_000, TimeSpan.Zero);
        var regular = TestTokens.Mint("regular");
        Validated(cache, regular);
        for (var i = 0; i < 5_000; i++)
        {
            Validated(cache, TestTokens.Mint($"passer-by-{i}"));
            // A user who keeps clicking stays remembered through every turnover of the crowd.
            if (i % 100 == 0) Assert.True(Received(cache, "Bearer " + regular).Result?.Succeeded, $"after {i} other tokens");
        }
        Assert.InRange(cache.Count, 500, 1_000);
        Assert.True(Received(cache, "Bearer " + regular).Result?.Succeeded);
        Assert.Null(Received(cache, "Bearer " + TestTokens.Mint("passer-by-0")).Result); // a fresh mint of an old one is another token anyway
    }
}
