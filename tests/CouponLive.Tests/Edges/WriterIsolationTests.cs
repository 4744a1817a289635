using System.Data.Common;
using System.Net;
using CouponLive.Tests.Faults;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Edges;

/// <summary>
/// One bad row never stalls everyone. A trigger in the real database refuses every coupon of the "poison" users with an
/// error of its own (not a constraint: the store cannot tell it from a fault of the statement), in the middle of two
/// campaigns' sales through one process, so it lands in groups mixed with other rows and campaigns. The writer takes the
/// failing group apart, parks the poison row (counted in couponlive_writer_parked_total, answered 503) and commits the
/// rest: both campaigns sell exactly out. The reconciler, committing a dead process's outbox, likewise parks the poison
/// entry of one campaign and still commits another campaign's.
/// </summary>
public abstract class WriterIsolationTests : SaleDrill
{
    private async Task PoisonAsync()
    {
        await using var conn = State.MySql is { } mysql ? (DbConnection)new MySqlConnector.MySqlConnection(mysql) : new Npgsql.NpgsqlConnection(State.Postgres);
        await conn.OpenAsync();
        string[] statements = State.MySql is not null
            ?
            [
                """
                CREATE TRIGGER refuse_poison BEFORE INSERT ON coupons FOR EACH ROW
                BEGIN IF NEW.user_id LIKE 'poison%' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row'; END IF; END
                """,
            ]
            :
            [
                """
                CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.user_id LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned row for %', NEW.user_id; END IF; RETURN NEW; END $$
                """,
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON coupons FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
            ];
        foreach (var sql in statements)
        {
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = sql;
            await cmd.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task A_row_the_store_refuses_for_its_own_reason_is_parked_and_every_other_sale_goes_on()
    {
        var server = (await StartServersAsync(1))[0];
        var a = await CreateCampaignAsync(server.BaseAddress, 200);
        var b = await CreateCampaignAsync(server.BaseAddress, 200);
        await PoisonAsync();
        var crowdA = new SaleDriver([server.BaseAddress], a, "iso-a");
        var crowdB = new SaleDriver([server.BaseAddress], b, "iso-b");

        using var poison = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var poisoned = Enumerable.Range(0, 3).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{(i % 2 == 0 ? a : b)}/issue");
            request.Headers.Authorization = new("Bearer", TestTokens.Mint($"poison-{i}"));
            return await poison.SendAsync(request);
        }).ToList();
        await Task.WhenAll(
            crowdA.RunAsync(users: 300, clicks: 1, concurrency: 100, budget: TimeSpan.FromSeconds(60)),
            crowdB.RunAsync(users: 300, clicks: 1, concurrency: 100, budget: TimeSpan.FromSeconds(60)));
        foreach (var answer in await Task.WhenAll(poisoned))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
            Assert.NotNull(answer.Headers.RetryAfter);
        }

        await AssertOutcomeAsync(a, crowdA);
        await AssertOutcomeAsync(b, crowdB);
        using var metrics = new HttpClient { BaseAddress = server.BaseAddress };
        var parked = (await PrometheusText.ReadAsync(metrics)).Get("couponlive_writer_parked_total");
        Assert.True(parked >= 3, $"the poison rows should have been parked: {parked}");
        TestContext.Current.SendDiagnosticMessage($"drill poison rows: {parked} parked; {crowdA}; {crowdB}");
    }

    [Fact]
    public async Task The_reconciler_parks_one_campaigns_poison_entry_and_commits_the_next_campaigns_entries()
    {
        var server = (await StartServersAsync(1, new() { ["Reconciler__Delay"] = "00:00:00.500" }))[0];
        var poisoned = await CreateCampaignAsync(server.BaseAddress, 10);
        var healthy = await CreateCampaignAsync(server.BaseAddress, 10);
        await PoisonAsync();

        // A dead process's admissions, as admit.lua writes them: one outbox entry per call, "" = "b", user = "seq:atMs:window".
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Redis("XADD", OutboxKey(poisoned), "*", "", "b", "poison-r", $"1:{at}:0");
        await Redis(["XADD", OutboxKey(healthy), "*", "", "b", .. Enumerable.Range(1, 5).SelectMany(i => new[] { $"dead-{i}", $"{i}:{at}:0" })]);

        var store = OpenStore();
        await using var closing = (IAsyncDisposable)store;
        Assert.True(await WaitAsync(async () => (await store.CheckInvariantsAsync(healthy, default)).Rows == 5, TimeSpan.FromSeconds(30)),
            "the healthy campaign's outbox should have been committed");
        Assert.True(await WaitAsync(async () => (await Redis("XLEN", OutboxKey(poisoned))).Trim() == "0", TimeSpan.FromSeconds(30)),
            "the poison entry should have been parked and deleted, not retried forever");
        Assert.Equal(0, (await store.CheckInvariantsAsync(poisoned, default)).Rows);
        Assert.Empty((await store.CheckInvariantsAsync(healthy, default)).Violations());
    }

    private string OutboxKey(long campaignId) => $"{State.RedisPrefix}:{{c:{campaignId}}}:outbox";

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(200);
        }
        return true;
    }

    private static Task<string> Redis(params string[] command)
    {
        var endpoint = TestServices.Redis.Split(',')[0].Split(':');
        return Shell.RunAsync("redis-cli", ["-h", endpoint[0], "-p", endpoint.Length > 1 ? endpoint[1] : "6379", .. command]);
    }
}

public sealed class PostgresWriterIsolationTests : WriterIsolationTests;

public sealed class MySqlWriterIsolationTests : WriterIsolationTests
{
    protected override ServerMode Mode => ServerMode.ProductionMySql;
}
