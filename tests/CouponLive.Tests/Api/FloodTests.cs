using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// Floods meet the limits that are on by default: a script hammering the issue route gets 429s (REST and
/// Connect alike) while people clicking twice never do; logins and sign-ups are limited per client address
/// (X-Forwarded-For from a loopback proxy names it) and failed logins per login id; a login storm past the
/// hashing queue gets 503. Each refusal carries a stable code and Retry-After, and counts in /metrics.
/// </summary>
public sealed class FloodTests : IAsyncLifetime
{
    private CouponLiveServer _server = null!;

    public ValueTask InitializeAsync()
    {
        _server = CouponLiveServer.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_client_firing_hundreds_of_issue_requests_a_second_gets_429s_with_Retry_After_on_every_transport()
    {
        var campaign = await _server.CreateCampaignAsync(5);
        var id = campaign["id"]!.GetValue<long>();
        using var client = _server.NewClient(TestTokens.Mint("flooder"));

        var started = Stopwatch.GetTimestamp();
        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => client.PostAsync($"/api/v1/campaigns/{id}/issue", null)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var served = answers.Length - limited.Count;
        // The burst of 20 plus 10 a second of the time it took: everything past it is refused.
        Assert.InRange(served, 1, 20 + (int)Math.Ceiling(elapsed.TotalSeconds * 10) + 1);
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.TooManyRequests, a.StatusCode.ToString()));
        foreach (var answer in limited.Take(5))
        {
            await answer.AssertProblemAsync(HttpStatusCode.TooManyRequests, "issue.rate_limited");
            Assert.True(answer.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "429 must say when to retry");
        }

        // The same user through Connect is the same user: still limited, with RetryInfo and Retry-After. A burst,
        // since a permit or two may have refilled since the flood's last answer.
        var connects = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            client.PostAsync("/couponlive.v1.CouponService/IssueCoupon", new StringContent($$"""{"campaignId":"{{id}}"}""", Encoding.UTF8, "application/json"))));
        var connect = connects.FirstOrDefault(c => c.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(connect is not null, string.Join(", ", connects.Select(c => (int)c.StatusCode)));
        Assert.NotNull(connect.Headers.RetryAfter);
        var error = await connect.ReadJsonAsync();
        Assert.Equal("resource_exhausted", error["code"]!.GetValue<string>());
        Assert.StartsWith("issue.rate_limited:", error["message"]!.GetValue<string>());
        Assert.Contains(error["details"]!.AsArray(), d => d!["type"]!.GetValue<string>() == "google.rpc.RetryInfo");

        // Another user is not held back by the flooder.
        using (var other = _server.NewClient(TestTokens.Mint("bystander")))
            Assert.Equal(HttpStatusCode.Created, (await other.PostAsync($"/api/v1/campaigns/{id}/issue", null)).StatusCode);

        var metrics = await PrometheusText.ReadAsync(_server.Client);
        var connectLimited = connects.Count(c => c.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal(limited.Count + connectLimited, metrics.Get("couponlive_issue_requests_total", ("outcome", "rate_limited")));
        using var admin = _server.NewClient(await _server.AdminTokenAsync());
        var (totals, _) = await LiveStream.TotalsAsync(admin, id, atLeast: 331);
        Assert.Equal(limited.Count + connectLimited, totals["rate_limited"]);
    }

    [Fact]
    public async Task People_double_clicking_are_never_limited()
    {
        var campaign = await _server.CreateCampaignAsync(300);
        var id = campaign["id"]!.GetValue<long>();
        using var client = _server.NewClient();
        // 400 people, each clicking twice at the same instant: 800 requests at once, none refused for rate.
        var answers = await Task.WhenAll(Enumerable.Range(0, 400).SelectMany(u =>
        {
            var token = TestTokens.Mint($"person-{u}");
            return Enumerable.Range(0, 2).Select(_ =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{id}/issue");
                request.Headers.Authorization = new("Bearer", token);
                return client.SendAsync(request);
            });
        }));
        Assert.DoesNotContain(answers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal(300, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
    }

    [Fact]
    public async Task Logins_and_sign_ups_from_one_address_are_limited_and_other_addresses_are_not()
    {
        // A script on one address: 120 logins and sign-ups at once, past the burst of 50.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var answers = await Task.WhenAll(Enumerable.Range(0, 120).Select(i => i % 2 == 0
            ? Post("/api/v1/auth/token", new { loginId = $"nobody{i}", password = "wrong password 1" }, "203.0.113.7")
            : Post("/api/v1/users", new { loginId = $"bulk{Guid.NewGuid():N}"[..20], password = "a fine password 9" }, "203.0.113.7")));
        var limited = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        // The burst, plus what refilled (10 a second) while they ran: on a busy machine that is longer.
        var refilled = (int)Math.Ceiling(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds * 10) + 1;
        Assert.InRange(limited.Count, 120 - 50 - refilled, 120 - 50);
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Created or HttpStatusCode.TooManyRequests, a.StatusCode.ToString()));
        var problem = await limited[0].AssertProblemAsync(HttpStatusCode.TooManyRequests, "auth.rate_limited");
        Assert.True(limited[0].Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("address", problem["detail"]!.GetValue<string>());

        // Someone on another address logs in as usual.
        var admin = await Post("/api/v1/auth/token", new { loginId = "admin", password = CouponLiveServer.AdminPassword }, "198.51.100.20");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        var metrics = await PrometheusText.ReadAsync(_server.Client);
        Assert.Equal(limited.Count, metrics.Get("couponlive_rate_limited_total", ("limit", "auth_per_address")));
    }

    [Fact]
    public async Task Failed_logins_of_one_login_id_are_limited_from_any_address_and_its_owner_waits_too()
    {
        Assert.Equal(HttpStatusCode.Created, (await Post("/api/v1/users", new { loginId = "target.user", password = "the right pass 1" }, "192.0.2.1")).StatusCode);
        for (var i = 0; i < 10; i++)
        {
            var wrong = await Post("/api/v1/auth/token", new { loginId = "target.user", password = $"guess number {i}" }, $"192.0.2.{10 + i}");
            await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_credentials");
        }
        var eleventh = await Post("/api/v1/auth/token", new { loginId = "TARGET.user", password = "guess number 11" }, "192.0.2.99");
        await eleventh.AssertProblemAsync(HttpStatusCode.TooManyRequests, "auth.rate_limited");
        Assert.True(eleventh.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        // Until a try refills, even the right password waits: guessing must not learn it is right.
        var owner = await Post("/api/v1/auth/token", new { loginId = "target.user", password = "the right pass 1" }, "192.0.2.200");
        await owner.AssertProblemAsync(HttpStatusCode.TooManyRequests, "auth.rate_limited");
        // Other accounts are untouched.
        Assert.Equal(HttpStatusCode.OK, (await Post("/api/v1/auth/token", new { loginId = "admin", password = CouponLiveServer.AdminPassword }, "192.0.2.201")).StatusCode);
    }

    [Fact]
    public async Task A_login_storm_past_the_hashing_queue_gets_503_at_once_and_issuing_is_not_starved()
    {
        await using var server = CouponLiveServer.Start(settings: new()
        {
            ["RateLimits:PasswordChecksAtOnce"] = "1",
            ["RateLimits:PasswordChecksQueued"] = "2",
        });
        var campaign = await server.CreateCampaignAsync(10);
        using var client = server.NewClient();
        var storm = Enumerable.Range(0, 24).Select(i => Post(client, "/api/v1/auth/token", new { loginId = $"storm{i}", password = "wrong password 1" }, $"10.9.0.{i}")).ToList();
        using (var buyer = server.NewClient(TestTokens.Mint("buyer")))
        {
            // Issuing hashes no password: it is answered during the storm, not refused or queued with the logins.
            // How long it took is printed, not bounded (a busy machine stretches it).
            var started = Stopwatch.GetTimestamp();
            var issued = await buyer.PostAsync($"/api/v1/campaigns/{campaign["id"]}/issue", null);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            TestContext.Current.SendDiagnosticMessage($"an issue during a login storm took {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
        }
        var answers = await Task.WhenAll(storm);
        var busy = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(busy.Count >= 24 - 3 - 6, $"{busy.Count} of 24 refused"); // 1 hashing + 2 queued, and a few that came after slots freed
        await busy[0].AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "service.unavailable");
        Assert.NotNull(busy[0].Headers.RetryAfter);
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.ServiceUnavailable, a.StatusCode.ToString()));
    }

    [Fact]
    public async Task An_unknown_login_id_and_a_wrong_password_are_answered_alike_in_similar_time()
    {
        await using var server = CouponLiveServer.Start(settings: new() { ["RateLimits:LoginFailuresPerIdBurst"] = "1000" });
        using var client = server.NewClient();
        Assert.Equal(HttpStatusCode.Created, (await Post(client, "/api/v1/users", new { loginId = "real.person", password = "the right pass 1" }, "10.1.0.1")).StatusCode);

        var known = new List<double>();
        var unknown = new List<double>();
        string? knownBody = null, unknownBody = null;
        for (var i = 0; i < 16; i++) // interleaved, so drift of a shared machine hits both alike
        {
            var (t1, b1) = await TimedLoginAsync(client, "real.person", $"wrong pass {i}", i);
            var (t2, b2) = await TimedLoginAsync(client, $"ghost{i}.person", $"wrong pass {i}", i);
            if (i == 0) continue; // warm-up
            known.Add(t1);
            unknown.Add(t2);
            knownBody = b1;
            unknownBody = b2;
        }
        Assert.Equal(knownBody, unknownBody);
        var ratio = Median(known) / Median(unknown);
        TestContext.Current.SendDiagnosticMessage($"login timing: wrong password median {Median(known):F1} ms, unknown id {Median(unknown):F1} ms (ratio {ratio:F2})");
        Assert.InRange(ratio, 0.75, 1.33);
    }

    private static async Task<(double Ms, string Body)> TimedLoginAsync(HttpClient client, string loginId, string password, int i)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await Post(client, "/api/v1/auth/token", new { loginId, password }, $"10.2.{i}.1");
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "auth.invalid_credentials");
        problem.Remove("traceId");
        return (ms, problem.ToJsonString());
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private Task<HttpResponseMessage> Post(string path, object body, string clientAddress) => Post(_server.Client, path, body, clientAddress);

    /// <summary>A request as a load balancer on loopback forwards it: X-Forwarded-For names the client.</summary>
    private static Task<HttpResponseMessage> Post(HttpClient client, string path, object body, string clientAddress)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Forwarded-For", clientAddress);
        return client.SendAsync(request);
    }
}
