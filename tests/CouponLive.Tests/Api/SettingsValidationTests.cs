using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>A bad setting stops the service at start, naming the setting and what is wrong with it.</summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("Issuance__CommitTimeout", "-00:00:01", "Issuance:CommitTimeout must be between 0 and 10 minutes")]
    [InlineData("Auth__TokenLifetime", "00:00:05", "Auth:TokenLifetime must be between 1 minute and 7 days")]
    [InlineData("Auth__TokenCacheSize", "-1", "Auth:TokenCacheSize must be between 0 (off) and 10,000,000")]
    [InlineData("Issuance__LoadTimeout", "01:00:00", "Issuance:LoadTimeout must be between 0 and 10 minutes")]
    [InlineData("Otlp__Protocol", "carrier-pigeon", "Otlp:Protocol must be http or grpc")]
    [InlineData("Rpc__GrpcUrl", "http://127.0.0.1", "Rpc:GrpcUrl must be an http:// URL with an explicit port")]
    [InlineData("RateLimits__IssuePerUserBurst", "0", "RateLimits:IssuePerUserBurst must be between 1 and 1,000,000")]
    [InlineData("RateLimits__LoginFailuresPerIdPerMinute", "0", "RateLimits:LoginFailuresPerIdPerMinute must be between 0.001 and 1,000,000")]
    [InlineData("RateLimits__IssueAuthFailuresPerAddressPerSecond", "0", "RateLimits:IssueAuthFailuresPerAddressPerSecond must be between 0.001 and 1,000,000")]
    [InlineData("Breakers__BreakDuration", "00:00:00.010", "Breakers:BreakDuration must be between 100 ms and 10 minutes")]
    [InlineData("Issuance__MaxPendingCommits", "0", "Issuance:MaxPendingCommits must be between 1 and 10,000,000")]
    [InlineData("Http__TrustedProxies__0", "10.0.0.0/99", "Http:TrustedProxies has '10.0.0.0/99'")]
    [InlineData("Events__Transport", "kafka", "Events:Transport must be none, rabbitmq or sqs")]
    [InlineData("Events__Transport", "rabbitmq", "Events:Transport is rabbitmq but ConnectionStrings:RabbitMq is not set")]
    [InlineData("Events__Transport", "sqs", "Events:Transport is sqs but Events:Sqs:QueueUrl is not an absolute http(s) URL")]
    [InlineData("Events__Exchange", "no spaces", "Events:Exchange must be 1-200 letters")]
    [InlineData("Grants__ChunkSize", "2001", "Grants:ChunkSize must be between 1 and 2,000 (grant.lua unpacks two values per admitted user")]
    public async Task The_service_refuses_to_start_with_the_settings_name_and_reason(string setting, string value, string message)
    {
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Embedded);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(state, new() { [setting] = value }));
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Auth__Issuers__0__Authority=http://127.0.0.1:1;Auth__Issuers__0__Audience=a", "Auth:Issuers:0:Authority is plain http: set Auth:Issuers:0:RequireHttps to false")]
    [InlineData("ConnectionStrings__Postgres=Host=x;ConnectionStrings__MySql=Server=y;ConnectionStrings__Redis=z",
        "ConnectionStrings:Postgres and ConnectionStrings:MySql are both set")]
    [InlineData("ConnectionStrings__MySql=Server=y", "ConnectionStrings:MySql is set but ConnectionStrings:Redis is not")]
    [InlineData("Auth__Issuers__0__Authority=https://idp.example;Auth__Issuers__0__JwksUrl=https://idp.example/jwks;Auth__Issuers__0__Audience=a",
        "Auth:Issuers:0: set exactly one of Authority, JwksUrl and PublicKeyPem")]
    [InlineData("Auth__Issuers__0__Authority=https://idp.example", "Auth:Issuers:0:Audience is required")]
    [InlineData("Events__Transport=rabbitmq;ConnectionStrings__RabbitMq=http://broker", "ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI")]
    [InlineData("Events__Transport=sqs;Events__Sqs__QueueUrl=https://sqs.example/1/events", "Events:Sqs:QueueUrl must name a FIFO queue")]
    [InlineData("Auth__Issuers__0__JwksUrl=https://idp.example/jwks;Auth__Issuers__0__Audience=a", "Auth:Issuers:0:Issuer is required")]
    [InlineData("Auth__Issuers__0__PublicKeyPem=not a key;Auth__Issuers__0__Issuer=x;Auth__Issuers__0__Audience=a", "Auth:Issuers:0:PublicKeyPem is not an RSA or EC public key")]
    public async Task Settings_that_go_together_are_checked_at_start_with_their_names(string settings, string message)
    {
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Embedded);
        var values = settings.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(state, values));
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Redis__MaxBatch", "0", "Redis:MaxBatch must be between 1 and 2,000")]
    [InlineData("Redis__MaxBatch", "2001", "Redis:MaxBatch must be between 1 and 2,000 users per script call (admit.lua unpacks two values per admitted user")]
    [InlineData("Redis__MaxQueuedPerCampaign", "0", "Redis:MaxQueuedPerCampaign must be between 1 and 10,000,000")]
    [InlineData("Reconciler__Interval", "00:00:00", "Reconciler:Interval must be between 10 ms and 1 hour")]
    public async Task A_bad_production_setting_stops_a_production_server(string setting, string value, string message)
    {
        var state = await CouponLiveServer.NewStateAsync(ServerMode.Production);
        try
        {
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(state, new() { [setting] = value }));
            Assert.Contains(message, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await TestServices.DropDatabaseAsync(state.Postgres!);
        }
    }
}
