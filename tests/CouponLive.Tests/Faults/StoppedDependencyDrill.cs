using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CouponLive.Rpc.V1;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace CouponLive.Tests.Faults;

/// <summary>
/// One dependency really stopped (scripts/services.sh stop-redis, stop-postgres or stop-mysql) under a production
/// server process, and every route the service has called with valid tokens and ids made before the stop: REST
/// (checked against /openapi/v1.json, so a new route is not forgotten), Connect and gRPC. No answer is a 500 or
/// any 5xx but 503; every 503 says when to retry (RPC: UNAVAILABLE with RetryInfo); a route that needs the
/// stopped dependency answers 503, one that does not serves as usual; the process lives. After the dependency
/// returns, nothing a 503 refused has changed, and a sale sells exactly (I1-I6).
/// </summary>
public abstract class StoppedDependencyDrill : SaleDrill
{
    private const string Store = "store";
    private const string Redis = "redis";
    private const string Both = Store + "+" + Redis;
    private const int GrpcUnavailable = (int)StatusCode.Unavailable;

    /// <summary>True to stop Redis; false to stop the SQL store of <see cref="SaleDrill.Mode"/>.</summary>
    protected abstract bool StopsRedis { get; }

    private string Stopped => StopsRedis ? Redis : Store;

    private string Service => StopsRedis ? "redis" : StoreService;

    [Fact]
    public async Task Every_route_answers_503_with_Retry_After_or_serves_while_the_dependency_is_stopped_and_a_sale_sells_exactly_after()
    {
        var server = (await StartServersAsync(1, grpc: true))[0];
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
        var admin = TestTokens.Mint("operator", "admin");

        // Before the stop: a user with a password, campaigns, coupons in every state a route needs, a grant, a live stream.
        var login = "outage" + Guid.NewGuid().ToString("N")[..10];
        const string Password = "a fine password 9";
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/v1/users", new { loginId = login, password = Password })).StatusCode);
        var sale = await CreateCampaignAsync(server.BaseAddress, 1_000);
        var operated = await CreateCampaignAsync(server.BaseAddress, 100);
        var before = await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{operated}", admin);
        var beforeBody = await before.ReadJsonAsync();
        var (operatedEtag, operatedVersion, operatedStatus) = (before.Headers.ETag!.Tag, beforeBody["version"]!.GetValue<int>(), beforeBody["status"]!.GetValue<string>());
        var holders = Enumerable.Range(0, 6).Select(i => TestTokens.Mint($"outage-holder-{i}")).ToArray();
        var codes = new string[holders.Length];
        for (var i = 0; i < holders.Length; i++)
        {
            var issued = await SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{sale}/issue", holders[i]);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            codes[i] = (await issued.ReadJsonAsync())["code"]!.GetValue<string>();
        }
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Post, $"/api/v1/coupons/{Escape(codes[3])}/redeem", holders[3], new { orderId = "order-3" })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{sale}/grants", admin, new { grantId = "before", userIds = new[] { "g-1", "g-2" } })).StatusCode);
        using var live = await OpenLiveAsync(http, sale, admin);

        // Reads in flight while it stops: a query cut off mid-way is an outage too, not a 500.
        using var stopReads = new CancellationTokenSource();
        var crowd = Enumerable.Range(0, 4).Select(i => ReadWhileStoppingAsync(http, i % 2 == 0 ? $"/api/v1/campaigns/{sale}" : "/api/v1/me/coupons", holders[i], stopReads.Token)).ToList();
        await Task.Delay(200);
        await Shell.ScriptAsync("services.sh", "stop-" + Service);
        await Task.Delay(500);
        await stopReads.CancelAsync();
        var inFlight = (await Task.WhenAll(crowd)).SelectMany(r => r).ToList();

        var answers = new List<(string Route, string Needs, int Ok, bool Grpc, int Status, bool RetryAfter, string Body)>();
        var acceptedGrants = new List<string>();
        var createdCampaigns = new List<string>();
        string? streamEnd;
        try
        {
            // Each route: what it needs ("store", "redis", both, or neither: served from this process), the status it
            // answers when what it needs is there, and the call. Reads of the in-process catalog need no Redis, a
            // holder whose row this process saw committed is answered from memory, and a plain user's code check
            // is arithmetic: those serve through either outage.
            var rest = new List<(string Template, string Needs, int Ok, Func<Task<HttpResponseMessage>> Send)>
            {
                ("POST /api/v1/users", Store, 201, () => http.PostAsJsonAsync("/api/v1/users", new { loginId = "o" + Guid.NewGuid().ToString("N")[..12], password = Password })),
                ("POST /api/v1/auth/token", Store, 200, () => http.PostAsJsonAsync("/api/v1/auth/token", new { loginId = login, password = Password })),
                ("POST /api/v1/campaigns", Store, 201, () => SendAsync(http, HttpMethod.Post, "/api/v1/campaigns", admin, NewCampaign())),
                ("GET /api/v1/campaigns", Store, 200, () => SendAsync(http, HttpMethod.Get, "/api/v1/campaigns", admin)),
                ("GET /api/v1/campaigns/{id}", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}", holders[0])),
                ("GET /api/v1/campaigns/{id}/coupons", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/coupons", admin)),
                ("PATCH /api/v1/campaigns/{id}", Both, 200, () => PatchAsync(http, operated, admin, """{"name": "renamed during an outage"}""")),
                ("POST /api/v1/campaigns/{id}/pause", Both, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{operated}/pause", admin)),
                ("POST /api/v1/campaigns/{id}/resume", Both, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{operated}/resume", admin)),
                ("POST /api/v1/campaigns/{id}/windows/current/end", Both, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{operated}/windows/current/end", admin)),
                ("POST /api/v1/campaigns/{id}/cancel", Both, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{operated}/cancel", admin, new { revokeIssued = false })),
                ("GET /api/v1/campaigns/{id}/audit", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/audit", admin)),
                ("POST /api/v1/campaigns/{id}/issue", Both, 201, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{sale}/issue", TestTokens.Mint("newcomer-rest"))),
                ("POST /api/v1/campaigns/{id}/issue (a holder)", "", 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{sale}/issue", holders[0])),
                ("GET /api/v1/me/coupons", Store, 200, () => SendAsync(http, HttpMethod.Get, "/api/v1/me/coupons", holders[0])),
                ("GET /api/v1/coupons/{code}", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/coupons/{Escape(codes[0])}", holders[0])),
                ("POST /api/v1/coupons/validate", Store, 200, () => SendAsync(http, HttpMethod.Post, "/api/v1/coupons/validate", admin, new { code = codes[0] })),
                ("POST /api/v1/coupons/validate (a user)", "", 200, () => SendAsync(http, HttpMethod.Post, "/api/v1/coupons/validate", holders[1], new { code = codes[0] })),
                ("POST /api/v1/coupons/{code}/redeem", Store, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/coupons/{Escape(codes[1])}/redeem", holders[1], new { orderId = "order-1" })),
                ("POST /api/v1/coupons/{code}/cancel-redemption", Store, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/coupons/{Escape(codes[3])}/cancel-redemption", holders[3], new { orderId = "order-3" })),
                ("POST /api/v1/coupons/{code}/revoke", Store, 200, () => SendAsync(http, HttpMethod.Post, $"/api/v1/coupons/{Escape(codes[2])}/revoke", admin)),
                ("POST /api/v1/campaigns/{id}/grants", Store, 202, () => SendAsync(http, HttpMethod.Post, $"/api/v1/campaigns/{sale}/grants", admin, new { grantId = "during", userIds = new[] { "g-3", "g-4" } })),
                ("GET /api/v1/campaigns/{id}/grants", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/grants", admin)),
                ("GET /api/v1/campaigns/{id}/grants/{grantId}", Store, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/grants/before", admin)),
                ("GET /api/v1/events", Store, 200, () => SendAsync(http, HttpMethod.Get, "/api/v1/events?limit=10", admin)),
                ("GET /api/v1/events/backlog", Store, 200, () => SendAsync(http, HttpMethod.Get, "/api/v1/events/backlog", admin)),
                ("GET /api/v1/campaigns/{id}/live", Both, 200, () => SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/live", admin, headersOnly: true)),
                // Readiness is this process's own: a shared dependency's outage must not take every instance out of a
                // load balancer at once. The dependencies' own check is for operators.
                ("GET /health/ready", "", 200, () => http.GetAsync("/health/ready")),
                ("GET /health/dependencies", Both, 200, () => http.GetAsync("/health/dependencies")),
                ("GET /health/live", "", 200, () => http.GetAsync("/health/live")),
                ("GET /metrics", "", 200, () => http.GetAsync("/metrics")),
                ("GET /dashboard", "", 200, () => http.GetAsync("/dashboard")),
                ("GET /openapi/v1.json", "", 200, () => http.GetAsync("/openapi/v1.json")),
            };
            foreach (var (template, needs, ok, send) in rest)
            {
                using var response = await send();
                var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "(event stream)" : await response.Content.ReadAsStringAsync();
                answers.Add((template, needs, ok, false, (int)response.StatusCode, response.Headers.RetryAfter is not null, body));
                if (template == "POST /api/v1/campaigns/{id}/grants" && response.StatusCode == HttpStatusCode.Accepted) acceptedGrants.Add("during");
                if (template == "POST /api/v1/campaigns" && response.StatusCode == HttpStatusCode.Created) createdCampaigns.Add(JsonNode.Parse(body)!["id"]!.ToString());
            }

            // Connect (JSON over HTTP/1.1): the same methods gRPC has, each with what it needs.
            var connect = new List<(string Method, string Needs, string Token, string Json)>
            {
                ("CreateCampaign", Store, admin, ConnectCampaign()),
                ("GetCampaign", Store, holders[0], $$"""{"id":"{{sale}}"}"""),
                ("IssueCoupon", Both, TestTokens.Mint("newcomer-connect"), $$"""{"campaignId":"{{sale}}"}"""),
                ("IssueCoupon (a holder)", "", holders[0], $$"""{"campaignId":"{{sale}}"}"""),
                ("UpdateCampaign", Both, admin, $$"""{"id":"{{operated}}","name":"renamed over Connect"}"""),
                ("PauseCampaign", Both, admin, $$"""{"id":"{{operated}}"}"""),
                ("ResumeCampaign", Both, admin, $$"""{"id":"{{operated}}"}"""),
                ("CancelCampaign", Both, admin, $$"""{"id":"{{operated}}"}"""),
                ("RedeemCoupon", Store, holders[4], $$"""{"code":"{{codes[4]}}","orderId":"order-4"}"""),
                ("GetCoupon", Store, holders[0], $$"""{"code":"{{codes[0]}}"}"""),
            };
            foreach (var (method, needs, token, json) in connect)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/couponlive.v1.CouponService/{method.Split(' ')[0]}")
                {
                    Content = new StringContent(json, Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await http.SendAsync(request);
                answers.Add(("Connect " + method, needs, 200, false, (int)response.StatusCode, response.Headers.RetryAfter is not null, await response.Content.ReadAsStringAsync()));
            }

            // gRPC (HTTP/2 on its own port): status OK, or UNAVAILABLE with a RetryInfo detail.
            var invoker = channel.CreateCallInvoker();
            var grpc = new List<(string Method, string Needs, Func<Task<(int Status, bool RetryInfo, string Detail)>> Call)>
            {
                ("CreateCampaign", Store, () => CallAsync(invoker, "CreateCampaign", CreateCampaignResponse.Parser, GrpcCampaign(), admin)),
                ("GetCampaign", Store, () => CallAsync(invoker, "GetCampaign", GetCampaignResponse.Parser, new GetCampaignRequest { Id = Text(sale) }, holders[0])),
                ("IssueCoupon", Both, () => CallAsync(invoker, "IssueCoupon", IssueCouponResponse.Parser, new IssueCouponRequest { CampaignId = Text(sale) }, TestTokens.Mint("newcomer-grpc"))),
                ("IssueCoupon (a holder)", "", () => CallAsync(invoker, "IssueCoupon", IssueCouponResponse.Parser, new IssueCouponRequest { CampaignId = Text(sale) }, holders[0])),
                ("UpdateCampaign", Both, () => CallAsync(invoker, "UpdateCampaign", UpdateCampaignResponse.Parser, new UpdateCampaignRequest { Id = Text(operated), Name = "renamed over gRPC" }, admin)),
                ("PauseCampaign", Both, () => CallAsync(invoker, "PauseCampaign", PauseCampaignResponse.Parser, new PauseCampaignRequest { Id = Text(operated) }, admin)),
                ("ResumeCampaign", Both, () => CallAsync(invoker, "ResumeCampaign", ResumeCampaignResponse.Parser, new ResumeCampaignRequest { Id = Text(operated) }, admin)),
                ("CancelCampaign", Both, () => CallAsync(invoker, "CancelCampaign", CancelCampaignResponse.Parser, new CancelCampaignRequest { Id = Text(operated) }, admin)),
                ("RedeemCoupon", Store, () => CallAsync(invoker, "RedeemCoupon", RedeemCouponResponse.Parser, new RedeemCouponRequest { Code = codes[5], OrderId = "order-5" }, holders[5])),
                ("GetCoupon", Store, () => CallAsync(invoker, "GetCoupon", GetCouponResponse.Parser, new GetCouponRequest { Code = codes[0] }, holders[0])),
                ("grpc.health.v1.Health/Check", "", () => HealthAsync(channel)),
            };
            foreach (var (method, needs, call) in grpc)
            {
                var (status, retryInfo, detail) = await call();
                answers.Add(("gRPC " + method, needs, 0, true, status, retryInfo, detail));
            }

            // The stream opened before the stop ends cleanly (no broken connection) once its next snapshot fails.
            streamEnd = await live.EndsCleanlyAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await Shell.ScriptAsync("services.sh", "start-" + Service);
        }

        // The table, in the log: what every route answered.
        TestContext.Current.SendDiagnosticMessage($"drill {Service} stopped, answers:\n" + string.Join("\n", answers.Select(a =>
            $"  {a.Route,-60} needs {(a.Needs.Length == 0 ? "nothing" : a.Needs),-10} -> {a.Status}{(a.RetryAfter ? " (retry after)" : "")}")));
        TestContext.Current.SendDiagnosticMessage($"drill {Service} stopped, the outages the server logged (warnings):\n  " + string.Join("\n  ", Causes(server)));
        TestContext.Current.SendDiagnosticMessage($"drill {Service} stopped, {inFlight.Count} reads in flight across the stop: " +
            string.Join(", ", inFlight.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} x {g.Key}")));
        var serverErrors = ServerErrors(server);
        TestContext.Current.SendDiagnosticMessage($"drill {Service} stopped, errors the server logged (by category): " + string.Join(", ", ErrorCategories(server)));
        Assert.True(inFlight.All(r => r.Status is 200 || r.Status == 503 && r.RetryAfter),
            "reads in flight across the stop must be served or answered 503 with Retry-After: " +
            string.Join(", ", inFlight.Where(r => r.Status is not (200 or 503) || !r.RetryAfter && r.Status == 503).Take(5).Select(r => $"{r.Status} {Short(r.Body)}")) + "\nserver errors:\n" + serverErrors);
        Assert.True(streamEnd is null, $"the live stream opened before the stop did not end cleanly: {streamEnd}\nserver errors:\n{serverErrors}");
        Assert.True(answers.All(a => a.Grpc ? a.Status is not ((int)StatusCode.Unknown or (int)StatusCode.Internal) : a.Status is < 500 or 503),
            "answers that are a 500 (or another 5xx but 503, or gRPC UNKNOWN/INTERNAL):\n" + string.Join("\n", answers.Where(a => a.Grpc ? a.Status is 2 or 13 : a.Status is >= 500 and not 503)
                .Select(a => $"  {a.Route}: {a.Status} {Short(a.Body)}")) + "\nserver errors:\n" + serverErrors);
        // A health check's 503 tells an operator what is down; it is not a refusal a client retries.
        Assert.True(answers.All(a => a.Status != (a.Grpc ? GrpcUnavailable : 503) || a.RetryAfter || a.Route == "GET /health/dependencies"),
            "503s without Retry-After (RPC: UNAVAILABLE without RetryInfo):\n" + string.Join("\n", answers.Where(a => a.Status == (a.Grpc ? GrpcUnavailable : 503) && !a.RetryAfter).Select(a => "  " + a.Route)));
        var wrong = answers.Where(a => a.Needs.Contains(Stopped, StringComparison.Ordinal)
            ? a.Status != (a.Grpc ? GrpcUnavailable : 503)
            : a.Status != a.Ok).ToList();
        Assert.True(wrong.Count == 0, $"with {Service} stopped, routes that need it must answer 503 and the others serve as usual:\n" +
            string.Join("\n", wrong.Select(a => $"  {a.Route} (needs {(a.Needs.Length == 0 ? "nothing" : a.Needs)}): {a.Status}, expected {(a.Needs.Contains(Stopped, StringComparison.Ordinal) ? "503" : a.Ok)}: {Short(a.Body)}"))
            + "\nserver errors:\n" + serverErrors);
        await AssertEveryOperationCalledAsync(http, answers.Where(a => !a.Route.StartsWith("Connect ", StringComparison.Ordinal) && !a.Grpc).Select(a => a.Route.Split(" (")[0]));
        Assert.False(server.HasExited, server.Output);

        // After it returns: ready again (bounded), nothing a 503 refused changed, what was accepted is carried out, a sale sells exactly.
        await WaitUntilAsync(async () => (await http.GetAsync("/health/dependencies")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "its dependencies answer again");
        var after = await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{operated}", admin);
        var afterBody = await after.ReadJsonAsync();
        Assert.True(after.Headers.ETag!.Tag == operatedEtag && afterBody["version"]!.GetValue<int>() == operatedVersion && afterBody["status"]!.GetValue<string>() == operatedStatus,
            $"an operator's change answered 503 must not have happened: {afterBody}");
        var audit = (await (await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{operated}/audit", admin)).ReadJsonAsync())["items"]!.AsArray();
        Assert.True(audit.Count == 0, $"no change of the operated campaign may be audited: {audit.ToJsonString()}");
        foreach (var grantId in acceptedGrants)
            await WaitUntilAsync(async () => (await (await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{sale}/grants/{grantId}", admin)).ReadJsonAsync())["status"]!.GetValue<string>() == "done",
                TimeSpan.FromSeconds(60), $"grant {grantId}, accepted during the outage, done");
        foreach (var id in createdCampaigns)
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{id}", admin)).StatusCode);
        await using (var store = (IAsyncDisposable)OpenStore())
        {
            var report = await ((CouponLive.Storage.ICouponStore)store).CheckInvariantsAsync(sale, default);
            Assert.True(report.Violations().Count == 0, report.ToString());
        }

        var race = await CreateCampaignAsync(server.BaseAddress, 150);
        var driver = new SaleDriver([server.BaseAddress], race, "after-" + Service);
        await driver.RunAsync(users: 500, clicks: 2, concurrency: 50, budget: TimeSpan.FromSeconds(120));
        Assert.True(driver.Other + driver.TransportErrors == 0, driver.ToString());
        await AssertOutcomeAsync(race, driver);
        Assert.False(server.HasExited, server.Output);
        TestContext.Current.SendDiagnosticMessage(
            $"drill {Service} stopped: {answers.Count} routes called, {answers.Count(a => a.Status == (a.Grpc ? GrpcUnavailable : 503))} answered 503/UNAVAILABLE, " +
            $"{answers.Count(a => a.Status == a.Ok)} served; after its return a sale of 150: {driver}");
    }

    /// <summary>One reader asking the same route again and again until told to stop (at most 500 times): what it was answered.</summary>
    private static async Task<List<(int Status, bool RetryAfter, string Body)>> ReadWhileStoppingAsync(HttpClient http, string path, string token, CancellationToken stop)
    {
        var answers = new List<(int, bool, string)>();
        while (!stop.IsCancellationRequested && answers.Count < 500)
        {
            using var response = await SendAsync(http, HttpMethod.Get, path, token);
            answers.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, await response.Content.ReadAsStringAsync(CancellationToken.None)));
            await Task.Delay(10, CancellationToken.None);
        }
        return answers;
    }

    /// <summary>Every operation /openapi/v1.json lists was called (so a route added later is not left out of this drill).</summary>
    private static async Task AssertEveryOperationCalledAsync(HttpClient http, IEnumerable<string> called)
    {
        var openApi = await (await http.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var operations = openApi["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(m => $"{m.Key.ToUpperInvariant()} {p.Key}"))
            .Where(o => !o.StartsWith("PARAMETERS ", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var missing = operations.Except(called, StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, "operations of /openapi/v1.json this drill does not call: " + string.Join(", ", missing));
    }

    /// <summary>The distinct causes in the server's "a dependency is unavailable (...)" warnings, with how often each was met.</summary>
    private static IEnumerable<string> Causes(ServerProcess server) =>
        server.Output.Split('\n')
            .Select(l => l.IndexOf("a dependency is unavailable (", StringComparison.Ordinal) is var at and >= 0 ? l[(at + "a dependency is unavailable (".Length)..].TrimEnd(')', '\r') : null)
            .OfType<string>()
            .Select(c => c.Length > 120 ? c[..120] : c)
            .GroupBy(c => c, StringComparer.Ordinal)
            .Select(g => $"{g.Count()} x {g.Key}");

    private static IEnumerable<string> ErrorCategories(ServerProcess server) =>
        server.Output.Split('\n').Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal))
            .Select(l => l.Trim()).GroupBy(l => l, StringComparer.Ordinal).Select(g => $"{g.Count()} x {g.Key}");

    private static string ServerErrors(ServerProcess server)
    {
        var lines = server.Output.Split('\n');
        return string.Join("\n", lines.Select((l, i) => (l, i))
            .Where(x => x.l.StartsWith("fail:", StringComparison.Ordinal) || x.l.StartsWith("crit:", StringComparison.Ordinal))
            .Select(x => string.Join("\n", lines.Skip(x.i).Take(14))).Take(6));
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string token, object? json = null, bool headersOnly = false)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = JsonContent.Create(json);
        return await http.SendAsync(request, headersOnly ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead);
    }

    private static async Task<HttpResponseMessage> PatchAsync(HttpClient http, long id, string token, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/campaigns/{id}")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/merge-patch+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static async Task<(int Status, bool RetryInfo, string Detail)> CallAsync<TRequest, TResponse>(
        CallInvoker invoker, string name, MessageParser<TResponse> response, TRequest message, string token)
        where TRequest : class, IMessage<TRequest>, new() where TResponse : class, IMessage<TResponse>
    {
        var method = new Method<TRequest, TResponse>(MethodType.Unary, "couponlive.v1.CouponService", name,
            Marshallers.Create(m => m.ToByteArray(), new MessageParser<TRequest>(() => new TRequest()).ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), response.ParseFrom));
        try
        {
            await invoker.AsyncUnaryCall(method, null, new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, DateTime.UtcNow.AddSeconds(60)), message);
            return (0, false, "");
        }
        catch (RpcException ex)
        {
            var details = ex.Trailers.GetValueBytes("grpc-status-details-bin");
            var retryInfo = details is not null && Google.Rpc.Status.Parser.ParseFrom(details).Details.Any(d => d.Is(Google.Rpc.RetryInfo.Descriptor));
            return ((int)ex.StatusCode, retryInfo, ex.Status.Detail);
        }
    }

    /// <summary>The gRPC health service answers for this process (SERVING while a shared dependency is down): never an error status.</summary>
    private static async Task<(int Status, bool RetryInfo, string Detail)> HealthAsync(GrpcChannel channel)
    {
        try
        {
            var answer = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(60));
            return (0, false, answer.Status.ToString());
        }
        catch (RpcException ex)
        {
            return ((int)ex.StatusCode, false, ex.Status.Detail);
        }
    }

    private static object NewCampaign() => new
    {
        name = "outage-" + Guid.NewGuid().ToString("N"),
        totalQuantity = 10,
        issueStartsAt = CampaignRequests.Iso(DateTimeOffset.UtcNow.AddSeconds(-1)),
        issueEndsAt = CampaignRequests.Iso(DateTimeOffset.UtcNow.AddMinutes(10)),
    };

    private static string ConnectCampaign() =>
        $$"""{"name":"outage-connect-{{Guid.NewGuid():N}}","amount":"10","issuedAt":"{{CampaignRequests.Iso(DateTimeOffset.UtcNow.AddSeconds(-1))}}","expiresAt":"{{CampaignRequests.Iso(DateTimeOffset.UtcNow.AddMinutes(10))}}"}""";

    private static CreateCampaignRequest GrpcCampaign() => new()
    {
        Name = "outage-grpc-" + Guid.NewGuid().ToString("N"),
        Amount = 10,
        IssuedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(-1)),
        ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(10)),
    };

    private static async Task<LiveReader> OpenLiveAsync(HttpClient http, long campaignId, string token)
    {
        var response = await SendAsync(http, HttpMethod.Get, $"/api/v1/campaigns/{campaignId}/live", token, headersOnly: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = new LiveReader(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        Assert.StartsWith("data: ", await reader.Reader.ReadLineAsync());
        return reader;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // the server is busy reconnecting: asked again
            }
            Assert.True(DateTime.UtcNow < deadline, $"not {what} within {timeout.TotalSeconds:F0} s");
            await Task.Delay(200);
        }
    }

    private static string Escape(string code) => Uri.EscapeDataString(code);

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Short(string body) => body.Length > 300 ? body[..300] : body;
}
