using System.Net;
using System.Security.Cryptography;
using CouponLive.Rpc.V1;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Tests.Auth;

/// <summary>
/// A real OpenID Connect provider on loopback (oidc-provider, tests/oidc) trusted by a server process through
/// discovery (Auth:Issuers:0:Authority), with its claims named uid and roles: its tokens issue coupons (also a
/// service token acting for a user over gRPC); another provider's, expired, wrongly addressed and forged tokens
/// get 401; a key rotation is followed without a restart; known keys keep working while the provider is down.
/// </summary>
public sealed class IdentityProviderTests : IAsyncLifetime
{
    private readonly OidcProvider _provider = new();
    private ServerProcess _server = null!;

    public async ValueTask InitializeAsync()
    {
        await _provider.StartAsync("k1:RS256");
        _server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), new()
        {
            ["Auth__Issuers__0__Authority"] = _provider.Issuer,
            ["Auth__Issuers__0__Audience"] = OidcProvider.Audience,
            ["Auth__Issuers__0__UserClaim"] = "uid",
            ["Auth__Issuers__0__RoleClaim"] = "roles",
            ["Auth__Issuers__0__RequireHttps"] = "false",
        }, grpc: true);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _provider.DisposeAsync();
    }

    private HttpClient Client(string token)
    {
        var client = new HttpClient { BaseAddress = _server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    private async Task<long> CampaignAsync(int quantity) => await TestCampaigns.CreateAsync(_server.BaseAddress, quantity);

    private async Task<HttpStatusCode> IssueAsync(long campaign, string token)
    {
        using var client = Client(token);
        return (await client.PostAsync($"/api/v1/campaigns/{campaign}/issue", null)).StatusCode;
    }

    /// <summary>A token signed with <paramref name="key"/> as the provider would sign, with what the test changes.</summary>
    private string Mint(SecurityKey key, string algorithm, string? audience = null, TimeSpan? expiresIn = null, string? issuer = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(10));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? _provider.Issuer,
            Audience = audience ?? OidcProvider.Audience,
            IssuedAt = expires.AddMinutes(-20),
            NotBefore = expires.AddMinutes(-20),
            Expires = expires,
            Claims = new Dictionary<string, object> { ["uid"] = "minted-" + Guid.NewGuid().ToString("N")[..6], ["roles"] = new[] { "user" } },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    [Fact]
    public async Task Provider_tokens_issue_coupons_a_service_token_acts_for_a_user_over_gRPC_and_rotation_needs_no_restart()
    {
        var campaign = await CampaignAsync(100);
        var alice = await _provider.TokenAsync("alice");
        Assert.Equal(HttpStatusCode.Created, await IssueAsync(campaign, alice));
        Assert.Equal(HttpStatusCode.OK, await IssueAsync(campaign, alice)); // the same coupon again (the token is now remembered)
        using (var client = Client(alice))
        {
            var mine = await (await client.GetAsync("/api/v1/me/coupons")).ReadJsonAsync();
            Assert.Equal(campaign, Assert.Single(mine["items"]!.AsArray())!["campaignId"]!.GetValue<long>());
        }

        // The checkout system's service token issues for a named user over gRPC; a user token may not.
        using var channel = GrpcChannel.ForAddress(_server.GrpcAddress!);
        var invoker = channel.CreateCallInvoker();
        var issue = new Method<IssueCouponRequest, IssueCouponResponse>(MethodType.Unary, "couponlive.v1.CouponService", "IssueCoupon",
            Marshallers.Create(r => r.ToByteArray(), IssueCouponRequest.Parser.ParseFrom), Marshallers.Create(r => r.ToByteArray(), IssueCouponResponse.Parser.ParseFrom));
        var service = new Metadata { { "authorization", "Bearer " + await _provider.TokenAsync("checkout") } };
        var forBob = await invoker.AsyncUnaryCall(issue, null, new CallOptions(service), new IssueCouponRequest { CampaignId = campaign.ToString(System.Globalization.CultureInfo.InvariantCulture), UserId = "oidc-bob" });
        Assert.Equal("oidc-bob", forBob.UserId);
        var bob = new Metadata { { "authorization", "Bearer " + await _provider.TokenAsync("bob") } };
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await invoker.AsyncUnaryCall(issue, null, new CallOptions(bob),
            new IssueCouponRequest { CampaignId = campaign.ToString(System.Globalization.CultureInfo.InvariantCulture), UserId = "oidc-alice" }));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        // The provider's admin may operate campaigns.
        using (var op = Client(await _provider.TokenAsync("operator")))
            Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{campaign}/pause", null)).StatusCode);
        using (var op = Client(await _provider.TokenAsync("operator")))
            Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/v1/campaigns/{campaign}/resume", null)).StatusCode);

        // Rotation: the provider signs with a new key (k2) and still publishes k1. New tokens work without a restart.
        await _provider.StartAsync("k2:ES256", "k1:RS256");
        var rotated = await _provider.TokenAsync("operator"); // holds no coupon yet
        Assert.Contains("\"kid\":\"k2\"", Base64UrlEncoder.Decode(rotated.Split('.')[0]), StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var status = HttpStatusCode.Unauthorized;
        while (status == HttpStatusCode.Unauthorized && DateTime.UtcNow < deadline)
        {
            status = await IssueAsync(campaign, rotated);
            if (status == HttpStatusCode.Unauthorized) await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.Created, status);

        // The provider down: tokens of keys the service knows keep working (a fresh one, never seen before, too).
        var beforeStop = await _provider.TokenAsync("operator");
        await _provider.StopAsync();
        using (var op = Client(beforeStop))
            Assert.Equal(HttpStatusCode.OK, (await op.GetAsync($"/api/v1/campaigns/{campaign}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, await IssueAsync(campaign, Mint(new JsonWebKey(_provider.PrivateJwk("k1")), SecurityAlgorithms.RsaSha256)));
    }

    [Fact]
    public async Task A_provider_can_be_trusted_by_its_key_set_address_or_by_one_public_key()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var server = await ServerProcess.StartAsync(await CouponLiveServer.NewStateAsync(ServerMode.Embedded), new()
        {
            ["Auth__Issuers__0__JwksUrl"] = _provider.Issuer + "/jwks",
            ["Auth__Issuers__0__Issuer"] = _provider.Issuer,
            ["Auth__Issuers__0__Audience"] = OidcProvider.Audience,
            ["Auth__Issuers__0__UserClaim"] = "uid",
            ["Auth__Issuers__0__RoleClaim"] = "roles",
            ["Auth__Issuers__0__RequireHttps"] = "false",
            ["Auth__Issuers__1__PublicKeyPem"] = ec.ExportSubjectPublicKeyInfoPem(),
            ["Auth__Issuers__1__Issuer"] = "https://partner.example",
            ["Auth__Issuers__1__Audience"] = OidcProvider.Audience,
            ["Auth__Issuers__1__UserClaim"] = "uid",
            ["Auth__Issuers__1__RoleClaim"] = "roles",
        });
        var campaign = await TestCampaigns.CreateAsync(server.BaseAddress, 10);
        using var viaJwks = new HttpClient { BaseAddress = server.BaseAddress };
        viaJwks.DefaultRequestHeaders.Authorization = new("Bearer", await _provider.TokenAsync("alice"));
        Assert.Equal(HttpStatusCode.Created, (await viaJwks.PostAsync($"/api/v1/campaigns/{campaign}/issue", null)).StatusCode);
        using var viaPem = new HttpClient { BaseAddress = server.BaseAddress };
        viaPem.DefaultRequestHeaders.Authorization = new("Bearer", Mint(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256, issuer: "https://partner.example"));
        Assert.Equal(HttpStatusCode.Created, (await viaPem.PostAsync($"/api/v1/campaigns/{campaign}/issue", null)).StatusCode);
        // The partner's key does not sign for the provider, nor the provider's for the partner.
        using var crossed = new HttpClient { BaseAddress = server.BaseAddress };
        crossed.DefaultRequestHeaders.Authorization = new("Bearer", Mint(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256));
        Assert.Equal(HttpStatusCode.Unauthorized, (await crossed.PostAsync($"/api/v1/campaigns/{campaign}/issue", null)).StatusCode);
    }

    [Fact]
    public async Task Tokens_of_another_provider_expired_wrongly_addressed_or_forged_get_401_and_made_up_kids_cannot_hammer_the_provider()
    {
        var campaign = await CampaignAsync(10);
        await using var untrusted = new OidcProvider();
        await untrusted.StartAsync("other:RS256");
        Assert.Equal(HttpStatusCode.Unauthorized, await IssueAsync(campaign, await untrusted.TokenAsync("alice")));

        var k1 = new JsonWebKey(_provider.PrivateJwk("k1"));
        Assert.Equal(HttpStatusCode.Created, await IssueAsync(campaign, Mint(k1, SecurityAlgorithms.RsaSha256))); // the control: a good one
        Assert.Equal(HttpStatusCode.Unauthorized, await IssueAsync(campaign, Mint(k1, SecurityAlgorithms.RsaSha256, expiresIn: TimeSpan.FromMinutes(-5))));
        Assert.Equal(HttpStatusCode.Unauthorized, await IssueAsync(campaign, Mint(k1, SecurityAlgorithms.RsaSha256, audience: "urn:someone-else")));
        // HMAC with the provider's public key as the secret, and no signature at all.
        var publicKeyAsSecret = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(_provider.PrivateJwk("k1")));
        Assert.Equal(HttpStatusCode.Unauthorized, await IssueAsync(campaign, Mint(publicKeyAsSecret, SecurityAlgorithms.HmacSha256)));

        // Forged: a key the provider never had, named with made-up kids, fifty of them at once.
        var before = _provider.KeySetRequests;
        using var rsa = RSA.Create(2048);
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            IssueAsync(campaign, Mint(new RsaSecurityKey(rsa) { KeyId = $"made-up-{i}" }, SecurityAlgorithms.RsaSha256))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Unauthorized, a));
        Assert.True(_provider.KeySetRequests - before <= 1, $"{_provider.KeySetRequests - before} key-set requests for 50 made-up kids");
    }
}
