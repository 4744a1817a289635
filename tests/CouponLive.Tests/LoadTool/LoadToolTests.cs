using System.Diagnostics;
using System.Text.Json;
using CouponLive.LoadTest;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.LoadTool;

/// <summary>Short runs of the load tool, in process, against the real service in both modes.</summary>
public sealed class LoadToolTests
{
    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task Stampede_sells_out_and_passes_its_invariant_check(ServerMode mode)
    {
        await using var own = await StartAsync(mode);
        var server = own.Server;
        var options = Options(server, Scenario.Stampede);
        options.Quantity = 200;
        options.Users = 600;
        options.RetryShare = 0.2;
        options.Connections = 16;

        var result = await LoadRunner.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken);
        var r = result.Report;

        Assert.True(result.Passed, r.Summary());
        Assert.True(r.Invariants.Checked, r.Invariants.Source);
        Assert.Equal(200, r.Invariants.Store!.Rows);
        Assert.Equal(r.PlannedRequests, r.Requests);
        Assert.Equal(r.Requests, r.Outcomes.Values.Sum());
        Assert.Equal(200, r.Outcomes["issued"]);
        Assert.Equal(0, r.Errors);
        Assert.Equal(200, r.Invariants.MatchedAnswers);
        Assert.Equal(0, r.Invariants.RowsWithoutAnswer);
        Assert.True(r.Outcomes["soldOut"] >= 400, r.Summary()); // every loser is told so at least once
        Assert.NotNull(r.SoldOutAfterSeconds);
        Assert.Equal(200, r.Timeline.Sum(t => t.Issued));
        AssertReportFiles(result);
    }

    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task Constant_rate_sends_on_schedule_and_passes_its_invariant_check(ServerMode mode)
    {
        await using var own = await StartAsync(mode);
        var server = own.Server;
        var options = Options(server, Scenario.Rate);
        options.Quantity = 100;
        options.Users = 300;
        options.Rate = 200;
        options.Duration = TimeSpan.FromSeconds(2);

        var result = await LoadRunner.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken);
        var r = result.Report;

        Assert.True(result.Passed, r.Summary());
        Assert.Equal(400, r.Requests);
        Assert.Equal(r.Requests, r.Outcomes.Values.Sum());
        Assert.Equal(100, r.Outcomes["issued"]);
        Assert.Equal(100, r.Invariants.Store!.Rows);
        Assert.Equal(0, r.Errors);
        // The schedule spans 2 s however fast the server answers; how much longer a busy machine takes is not asserted.
        Assert.True(r.ElapsedSeconds >= 1.9, $"a 2 s schedule ran in {r.ElapsedSeconds:F2} s");
        Assert.True(r.Latency.P50Ms > 0 && r.Latency.P50Ms <= r.Latency.P99Ms && r.Latency.P99Ms <= r.Latency.MaxMs, r.Summary());
        AssertReportFiles(result);
    }

    [Fact]
    public async Task Stampede_with_events_on_rabbitmq_finds_each_coupons_issued_event_in_the_queue()
    {
        var rabbit = Environment.GetEnvironmentVariable("COUPONLIVE_TEST_RABBITMQ") is { Length: > 0 } v
            ? v : throw new InvalidOperationException("COUPONLIVE_TEST_RABBITMQ is not set: run ./scripts/test.sh, which starts RabbitMQ.");
        var exchange = "couponlive.events.loadtool-" + Guid.NewGuid().ToString("N")[..12];
        var queue = exchange + ".all";
        await Shell.RunAsync("node", [Path.Combine(TestServices.RepoRoot(), "tests", "brokers", "amqp-consumer.mjs"), "bind", rabbit, exchange, queue, "#"]);
        try
        {
            await using var server = CouponLiveServer.Start(settings: new()
            {
                ["Events:Transport"] = "rabbitmq",
                ["ConnectionStrings:RabbitMq"] = rabbit,
                ["Events:Exchange"] = exchange,
            });
            var options = Options(server, Scenario.Stampede);
            options.Quantity = 150;
            options.Users = 300;
            options.RetryShare = 0;
            options.Connections = 16;
            options.RabbitMq = rabbit;
            options.EventsQueue = queue;

            var result = await LoadRunner.RunAsync(options, TextWriter.Null, TestContext.Current.CancellationToken);
            var r = result.Report;

            Assert.True(result.Passed, r.Summary());
            var q = r.Invariants.Queue!;
            // The campaign's created event and its 150 issued ones, each once; every coupon's event names its row.
            Assert.Equal((151, 150, 0, 0, 0), (q.Messages, q.IssuedEvents, q.Duplicates, q.EventsWithoutRow, q.CouponsWithoutEvent));
        }
        finally
        {
            await Shell.RunAsync("node", [Path.Combine(TestServices.RepoRoot(), "tests", "brokers", "amqp-consumer.mjs"), "delete", rabbit, queue]);
        }
    }

    [Fact]
    public async Task Invariant_check_fails_when_a_success_answer_has_no_stored_coupon()
    {
        await using var own = await StartAsync(ServerMode.Embedded);
        var server = own.Server;
        var campaign = await server.CreateCampaignAsync(10);
        var id = campaign["id"]!.GetValue<long>();
        var options = Options(server, Scenario.Stampede);
        var users = new[] { new LoadUser("ghost-0", "Bearer x") };
        var stats = new RunStats(users: 1, quantity: 10, seconds: 2) { StartTimestamp = Stopwatch.GetTimestamp() };
        stats.Record(Outcome.Issued, 0, "가나다라마바사아자1", Stopwatch.GetTimestamp(), Stopwatch.GetTimestamp(), null);

        var check = await InvariantCheck.RunAsync(options, id, 10, users, stats, null, TestContext.Current.CancellationToken);

        Assert.True(check.Checked);
        Assert.False(check.Passed);
        Assert.Contains(check.Violations, v => v.StartsWith("I5", StringComparison.Ordinal));
        Assert.Equal(1, check.MismatchedAnswers);
    }

    [Fact]
    public void Options_refuse_remote_targets_unless_allowed()
    {
        var error = Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["stampede", "--url", "http://10.1.2.3:8080", "--signing-key", TestTokens.SigningKey, "--campaign", "1"]));
        Assert.Contains("--allow-remote", error.Message, StringComparison.Ordinal);

        var allowed = LoadOptions.Parse(["rate", "--url", "http://10.1.2.3:8080", "--allow-remote", "--signing-key", TestTokens.SigningKey, "--campaign", "1", "--rate", "50", "--duration", "3"]);
        Assert.Equal(Scenario.Rate, allowed.Scenario);
        Assert.Equal(50, allowed.Rate);

        var local = LoadOptions.Parse(["stampede", "--url", "http://localhost:1,http://[::1]:2", "--token-file", "t.txt", "--campaign", "1"]);
        Assert.Equal(2, local.Targets.Count);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["stampede", "--campaign", "1"])); // no key, no token file
    }

    [Fact]
    public void Minted_tokens_round_trip_through_a_token_file()
    {
        var users = Tokens.Mint(TestTokens.SigningKey, "rt", 3, "couponlive", "couponlive", TimeSpan.FromHours(1));
        var path = Path.Combine(Directory.CreateTempSubdirectory("couponlive-tokens-").FullName, "tokens.txt");
        Tokens.Write(path, users);
        var read = Tokens.Read(path, 10);
        Assert.Equal(users.Select(u => u.UserId), read.Select(u => u.UserId));
        Assert.Equal(users.Select(u => u.Bearer), read.Select(u => u.Bearer));
        Assert.Equal("rt-2", Tokens.SubjectOf(read[2].Bearer[7..]));
    }

    [Fact]
    public void Latency_percentiles_are_reported_in_ms_within_a_tenth_of_a_percent()
    {
        var stats = new RunStats(users: 1, quantity: 1, seconds: 1);
        Assert.Equal(new LatencySummary(0, 0, 0, 0, 0, 0), LatencySummary.Of(stats.Latency));
        for (var micros = 1; micros <= 100_000; micros++) stats.Latency.RecordValue(micros);
        var summary = LatencySummary.Of(stats.Latency);
        Assert.Equal(100_000, stats.Completed);
        foreach (var (reported, expected) in new[] { (summary.P50Ms, 50.0), (summary.P90Ms, 90.0), (summary.P99Ms, 99.0), (summary.P999Ms, 99.9), (summary.MaxMs, 100.0) })
            Assert.InRange(reported, expected, expected * 1.001);
        Assert.InRange(summary.MeanMs, 49.9, 50.1);
    }

    private static async Task<OwnServer> StartAsync(ServerMode mode) =>
        new(CouponLiveServer.Start(await CouponLiveServer.NewStateAsync(mode)));

    /// <summary>A server of the test's own; disposing it also drops its production database.</summary>
    private sealed class OwnServer(CouponLiveServer server) : IAsyncDisposable
    {
        public CouponLiveServer Server => server;

        public async ValueTask DisposeAsync()
        {
            await server.DisposeAsync();
            if (server.State.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
        }
    }

    private static LoadOptions Options(CouponLiveServer server, Scenario scenario)
    {
        var options = new LoadOptions
        {
            Scenario = scenario,
            AdminPassword = CouponLiveServer.AdminPassword,
            SigningKey = TestTokens.SigningKey,
            StartIn = TimeSpan.FromSeconds(1),
            MaxDuration = TimeSpan.FromSeconds(30),
            RequestTimeout = TimeSpan.FromSeconds(10),
            OutputDirectory = Directory.CreateTempSubdirectory("couponlive-loadtest-").FullName,
            Quiet = true,
        };
        options.Targets.Add(server.BaseAddress);
        if (server.State.Postgres is { } pg) options.Postgres = pg;
        else options.Sqlite = Path.Combine(server.DataDirectory, "couponlive.db");
        return options;
    }

    private static void AssertReportFiles(LoadResult result)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(result.JsonPath));
        Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
        Assert.True(json.RootElement.GetProperty("invariants").GetProperty("checked").GetBoolean());
        Assert.Equal(result.Report.Requests, json.RootElement.GetProperty("requests").GetInt64());
        Assert.True(json.RootElement.GetProperty("timeline").GetArrayLength() >= 1);

        var html = File.ReadAllText(result.HtmlPath);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        foreach (var chart in new[] { "chart-rps", "chart-issued", "chart-latency" })
            Assert.Contains($"<svg id=\"{chart}\"", html, StringComparison.Ordinal);
        Assert.Contains("<polyline", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase); // self-contained, no JS
        Assert.DoesNotContain("http-equiv", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("PASS", html, StringComparison.Ordinal);
    }
}
