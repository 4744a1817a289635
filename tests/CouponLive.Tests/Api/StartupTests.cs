using CouponLive.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CouponLive.Tests.Api;

/// <summary>Configuration mistakes stop the service at start, with a message that names the setting.</summary>
public sealed class StartupTests
{
    private static Exception StartFails(string environment, Dictionary<string, string?> settings)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("couponlive-startup-").FullName;
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment(environment);
            web.UseSetting("urls", "http://127.0.0.1:0");
            web.UseSetting("Storage:DataDirectory", dataDirectory);
            foreach (var (k, v) in settings) web.UseSetting(k, v);
        });
        factory.UseKestrel(0);
        return Assert.ThrowsAny<Exception>(() => factory.StartServer());
    }

    private static string Messages(Exception ex) => ex.ToString();

    [Fact]
    public void Production_environment_without_a_signing_key_refuses_to_start()
    {
        var ex = StartFails("Production", new() { ["Auth:SigningKey"] = "", ["Codes:Key"] = "a production code key 0123456789" });
        Assert.Contains("Auth:SigningKey is not set", Messages(ex));
    }

    [Fact]
    public void Production_environment_with_a_development_key_refuses_to_start()
    {
        var ex = StartFails("Production", new() { ["Auth:SigningKey"] = TestTokens.SigningKey, ["Codes:Key"] = "a production code key 0123456789" });
        Assert.Contains("Auth:SigningKey is a development key", Messages(ex));
    }

    [Fact]
    public void Production_environment_without_a_code_key_refuses_to_start()
    {
        var ex = StartFails("Production", new() { ["Auth:SigningKey"] = "a production signing key that is long enough 0123", ["Codes:Key"] = "" });
        Assert.Contains("Codes:Key is not set", Messages(ex));
    }

    [Fact]
    public void A_short_signing_key_refuses_to_start()
    {
        var ex = StartFails("Development", new() { ["Auth:SigningKey"] = "too short", ["Codes:Key"] = TestTokens.CodeKey });
        Assert.Contains("at least 32 bytes", Messages(ex));
    }

    [Theory]
    [InlineData("ConnectionStrings:Redis", "ConnectionStrings:Redis is set but no SQL store is")]
    [InlineData("ConnectionStrings:Postgres", "ConnectionStrings:Postgres is set but ConnectionStrings:Redis is not")]
    [InlineData("ConnectionStrings:MySql", "ConnectionStrings:MySql is set but ConnectionStrings:Redis is not")]
    public void Only_one_connection_string_is_a_start_up_error(string set, string message)
    {
        var ex = StartFails("Development", new()
        {
            [set] = "127.0.0.1:1",
            ["Auth:SigningKey"] = TestTokens.SigningKey,
            ["Codes:Key"] = TestTokens.CodeKey,
        });
        Assert.Contains(message, Messages(ex));
    }

    [Fact]
    public void Production_mode_needs_configured_keys_even_in_development()
    {
        var ex = StartFails("Development", new()
        {
            ["ConnectionStrings:Redis"] = "127.0.0.1:1",
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1",
            ["Auth:SigningKey"] = "",
            ["Codes:Key"] = TestTokens.CodeKey,
        });
        Assert.Contains("every process must share it", Messages(ex));
    }

    [Fact]
    public async Task A_different_code_key_on_an_existing_database_refuses_to_start()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("couponlive-codekey-").FullName;
        await CouponLiveServer.Start(dataDirectory).DisposeAsync();
        var ex = Assert.ThrowsAny<Exception>(() => CouponLiveServer.Start(dataDirectory, settings: new() { ["Codes:Key"] = "DEVELOPMENT-ONLY another code key" }));
        Assert.Contains("Codes:Key differs", Messages(ex));
    }
}
