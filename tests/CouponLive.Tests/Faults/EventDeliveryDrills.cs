using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CouponLive.Storage;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>
/// Events from three production processes to a real broker, read by a downstream consumer written with the broker's
/// own client (amqplib, the AWS SDK for JavaScript: tests/brokers) or read from the feed, through faults mid-sale:
/// the broker stopped for 10 s, the process holding the relay lease killed, the SQL store stopped for 3 s. Each drill ends with the consumer's count: every committed coupon
/// has its issued event (code, user, sequence), no event names a coupon without a row or is missing from the outbox,
/// redemptions and a revocation after the sale arrive too, first deliveries come in feed order; duplicates (same id)
/// are counted and printed, as consumers dedupe on the id.
/// </summary>
[Collection(nameof(FaultDrills))]
public sealed class EventDeliveryDrills : SaleDrill
{
    private readonly string _name = "drill-" + Guid.NewGuid().ToString("N")[..12];

    private static string Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set: run ./scripts/test.sh, which starts the brokers.");

    private static string Rabbit => Variable("COUPONLIVE_TEST_RABBITMQ");

    private static string Sqs => Variable("COUPONLIVE_TEST_SQS");

    private string Exchange => "couponlive.events." + _name;

    private static Task<string> Services(string command) => Shell.ScriptAsync("services.sh", command);

    private static Task<string> Consumer(string script, params string[] args) =>
        Shell.RunAsync("node", [Path.Combine(TestServices.RepoRoot(), "tests", "brokers", script), .. args]);

    private Dictionary<string, string> RabbitSettings() => new()
    {
        ["Events__Transport"] = "rabbitmq",
        ["ConnectionStrings__RabbitMq"] = Rabbit,
        ["Events__Exchange"] = Exchange,
        ["Events__LeaseTime"] = "00:00:02",
        ["Reconciler__Delay"] = "00:00:01",
    };

    [Fact]
    public async Task The_broker_stopped_10_s_mid_sale_holds_up_no_issue_and_every_event_arrives_after_it_returns()
    {
        var queue = Exchange + ".all";
        await Consumer("amqp-consumer.mjs", "bind", Rabbit, Exchange, queue);
        var servers = await StartServersAsync(3, RabbitSettings());
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "mq-down");

        // About 25 clicks a second: the sale lasts some 18 s, the broker is down for 10 of them.
        var sale = driver.RunAsync(users: 450, clicks: 1, concurrency: 10, budget: TimeSpan.FromSeconds(120), pause: TimeSpan.FromMilliseconds(400));
        var fault = await WhenAsync(driver, 100, () => Services("stop-rabbitmq"), TimeSpan.FromSeconds(60));
        long pendingWhileDown;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            pendingWhileDown = await PendingAsync();
            Assert.True(driver.Successes > fault.Successes, $"the sale went on while the broker was down: {fault.Successes} then, {driver} now");
        }
        finally
        {
            await Services("start-rabbitmq");
        }
        await sale;
        await AssertOutcomeAsync(campaignId, driver);
        Assert.True(pendingWhileDown > 0, "events waited in the outbox while the broker was down");
        var after = await RedeemAndRevokeAsync(servers[0].BaseAddress, driver);

        var delivered = await DeliveredAsync(async () => Parse(await Consumer("amqp-consumer.mjs", "drain", Rabbit, queue, "1500")));
        await AssertEveryEventArrivedAsync("broker stopped 10 s", campaignId, delivered, after, pendingWhileDown);
        Assert.All(delivered, d =>
        {
            Assert.Equal("application/cloudevents+json", d.Message["contentType"]!.GetValue<string>());
            Assert.Equal(2, d.Message["deliveryMode"]!.GetValue<int>()); // persistent
            Assert.Equal(d.Id, d.Message["messageId"]!.GetValue<string>());
            Assert.Equal(d.Type, d.Message["routingKey"]!.GetValue<string>());
        });
    }

    /// <summary>Where a drill's events go and how its consumer reads them back (JSON lines: see <see cref="Delivery"/>).</summary>
    private sealed record Transport(string Name, Dictionary<string, string> Settings, Func<IReadOnlyList<ServerProcess>, Task<List<Delivery>>> Read);

    private async Task<Transport> TransportAsync(string name)
    {
        var common = new Dictionary<string, string> { ["Events__LeaseTime"] = "00:00:02", ["Reconciler__Delay"] = "00:00:01" };
        switch (name)
        {
            case "rabbitmq":
                var queue = Exchange + ".all";
                await Consumer("amqp-consumer.mjs", "bind", Rabbit, Exchange, queue);
                return new(name, RabbitSettings(), async _ => Parse(await Consumer("amqp-consumer.mjs", "drain", Rabbit, queue, "1500")));
            case "sqs":
                var queueUrl = await Consumer("sqs-consumer.mjs", "create", Sqs, $"couponlive-{_name}.fifo");
                common["Events__Transport"] = "sqs";
                common["Events__Sqs__ServiceUrl"] = Sqs;
                common["Events__Sqs__QueueUrl"] = queueUrl;
                common["AWS_ACCESS_KEY_ID"] = "test"; // fauxqs takes any credentials
                common["AWS_SECRET_ACCESS_KEY"] = "test";
                return new(name, common, async _ => Parse(await Consumer("sqs-consumer.mjs", "drain", Sqs, queueUrl, "1500")));
            default:
                return new("feed", common, servers => ReadFeedAsync(servers.First(s => !s.HasExited).BaseAddress));
        }
    }

    [Theory]
    [InlineData("rabbitmq")]
    [InlineData("sqs")]
    [InlineData("feed")]
    public async Task Killing_the_relay_lease_holder_mid_sale_hands_publishing_to_another_process_and_loses_no_event(string name)
    {
        var transport = await TransportAsync(name);
        var servers = await StartServersAsync(3, transport.Settings);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "relay-kill");

        // On RabbitMQ the kill lands mid-publish for certain: the broker blocks publishers (a memory alarm) from before
        // the sale, so the holder's publishes hang unconfirmed while the sale goes on; it takes them again after the kill.
        var blocked = name == "rabbitmq";
        if (blocked) await Services("block-rabbitmq");
        ServerProcess? killed = null;
        long pendingAtKill = 0;
        Fault fault;
        try
        {
            // About 300 clicks a second: the kill lands early in a sale of some seconds.
            var sale = driver.RunAsync(users: 1_000, clicks: 1, concurrency: 30, budget: TimeSpan.FromSeconds(120), pause: TimeSpan.FromMilliseconds(100));
            fault = await WhenAsync(driver, 150, async () =>
            {
                var holder = await HolderPidAsync();
                killed = servers.Single(s => s.ProcessId == holder);
                pendingAtKill = await PendingAsync();
                killed.Kill();
                if (blocked) await Task.Delay(TimeSpan.FromSeconds(1));
            }, TimeSpan.FromSeconds(60));
            await sale;
        }
        finally
        {
            if (blocked) await Services("unblock-rabbitmq");
        }
        Assert.True(killed!.HasExited);
        if (name == "rabbitmq") Assert.True(pendingAtKill > 0, "the holder was killed with events unconfirmed");
        await AssertOutcomeAsync(campaignId, driver);
        var after = await RedeemAndRevokeAsync(servers.First(s => !s.HasExited).BaseAddress, driver);

        var successor = await HolderPidAsync(except: killed.ProcessId);
        Assert.Contains(servers, s => s.ProcessId == successor && !s.HasExited);
        var delivered = await DeliveredAsync(() => transport.Read(servers));
        await AssertEveryEventArrivedAsync($"relay lease holder killed ({name}, {fault.Successes} successes and {pendingAtKill} events pending then)", campaignId, delivered, after, null);
    }

    [Theory]
    [InlineData("rabbitmq")]
    [InlineData("sqs")]
    [InlineData("feed")]
    public async Task The_sql_store_stopped_3_s_mid_sale_loses_no_event_and_invents_none(string name)
    {
        var transport = await TransportAsync(name);
        var servers = await StartServersAsync(3, transport.Settings);
        var campaignId = await CreateCampaignAsync(servers[0].BaseAddress, 400);
        var driver = new SaleDriver(servers.Select(s => s.BaseAddress).ToList(), campaignId, "store-down");

        // A sale of some seconds, so the outage lands in it (the driver retries the 503s).
        var sale = driver.RunAsync(users: 800, clicks: 1, concurrency: 50, budget: TimeSpan.FromSeconds(180), maxAttemptsPerClick: 400, pause: TimeSpan.FromMilliseconds(400));
        var fault = await WhenAsync(driver, 100, async () =>
        {
            await Services("stop-" + StoreService);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
            }
            finally
            {
                await Services("start-" + StoreService);
            }
        }, TimeSpan.FromSeconds(60));
        await sale;
        Assert.True(fault.Successes < driver.Successes, $"the outage must land mid-sale: {fault.Successes} successes then, {driver} at the end");
        await AssertOutcomeAsync(campaignId, driver);
        var after = await RedeemAndRevokeAsync(servers[0].BaseAddress, driver);

        var delivered = await DeliveredAsync(() => transport.Read(servers));
        await AssertEveryEventArrivedAsync($"{StoreService} stopped 3 s ({name})", campaignId, delivered, after, null);
    }

    /// <summary>The whole feed, page by page, as a consumer with a service token reads it.</summary>
    private static async Task<List<Delivery>> ReadFeedAsync(Uri server)
    {
        using var reader = new HttpClient { BaseAddress = server };
        reader.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("downstream", "service"));
        var read = new List<Delivery>();
        var after = "0";
        while (true)
        {
            var page = JsonNode.Parse(await reader.GetStringAsync($"/api/v1/events?after={after}&limit=1000"))!;
            var items = page["items"]!.AsArray();
            if (items.Count == 0) return read;
            foreach (var item in items)
            {
                var ce = item!.AsObject();
                read.Add(new Delivery(ce["id"]!.GetValue<string>(), ce["type"]!.GetValue<string>(), ce, new JsonObject()));
            }
            after = page["next"]!.GetValue<string>();
        }
    }

    private static List<Delivery> Parse(string lines) =>
        [.. lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var message = JsonNode.Parse(line)!.AsObject();
            var ce = JsonNode.Parse(message["body"]!.GetValue<string>())!.AsObject();
            return new Delivery(ce["id"]!.GetValue<string>(), ce["type"]!.GetValue<string>(), ce, message);
        })];

    /// <summary>Redeems three of the sale's coupons and revokes one after the sale; the codes.</summary>
    private static async Task<(string[] Redeemed, string Revoked)> RedeemAndRevokeAsync(Uri server, SaleDriver driver)
    {
        var winners = driver.CodesByUser.Take(4).Select(kv => (User: kv.Key, Code: kv.Value.Single())).ToList();
        foreach (var (user, code) in winners.Take(3))
        {
            using var holder = new HttpClient { BaseAddress = server };
            holder.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint(user, "user"));
            var redeemed = await holder.PostAsJsonAsync($"/api/v1/coupons/{Uri.EscapeDataString(code)}/redeem", new { orderId = "order-" + user });
            Assert.Equal(HttpStatusCode.OK, redeemed.StatusCode);
        }
        using var admin = new HttpClient { BaseAddress = server };
        admin.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/coupons/{Uri.EscapeDataString(winners[3].Code)}/revoke", null)).StatusCode);
        return ([.. winners.Take(3).Select(w => w.Code)], winners[3].Code);
    }

    private async Task<long> PendingAsync()
    {
        var store = OpenStore();
        await using var closing = (IAsyncDisposable)store;
        return (await ((IEventStore)store).GetEventBacklogAsync(default)).Pending;
    }

    /// <summary>The process id in the live relay lease (holder names are host/pid/instance), once it is not <paramref name="except"/>.</summary>
    private async Task<int> HolderPidAsync(int? except = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var conn = new Npgsql.NpgsqlConnection(State.Postgres);
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT holder FROM event_relay WHERE name = 'relay' AND expires_at > now()", conn);
            if (await cmd.ExecuteScalarAsync() is string holder && int.Parse(holder.Split('/')[1], CultureInfo.InvariantCulture) is var pid && pid != except) return pid;
            Assert.True(DateTime.UtcNow < deadline, except is null ? "no process holds the relay lease" : $"no process took the relay lease over from {except}");
            await Task.Delay(100);
        }
    }

    private sealed record Delivery(string Id, string Type, JsonObject Event, JsonObject Message);

    /// <summary>Waits until the outbox has nothing pending (bounded: 60 s), then reads everything the consumer gets.</summary>
    private async Task<List<Delivery>> DeliveredAsync(Func<Task<List<Delivery>>> read)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long pending;
        while ((pending = await PendingAsync()) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{pending} events still pending after 60 s");
            await Task.Delay(200);
        }
        return await read();
    }

    private async Task AssertEveryEventArrivedAsync(string drill, long campaignId, List<Delivery> delivered, (string[] Redeemed, string Revoked) after, long? pendingWhileDown)
    {
        var store = OpenStore();
        await using var closing = (IAsyncDisposable)store;
        var feed = (await ((IEventStore)store).ReadEventFeedAsync(0, 100_000, default)).Where(e => e.CampaignId == campaignId).ToList();
        var coupons = await store.ListCouponsAsync(campaignId, 0, 100_000, CouponFilter.All, default);
        var mine = delivered.Where(d => d.Event["partitionkey"]?.GetValue<string>() == campaignId.ToString(CultureInfo.InvariantCulture)).ToList();
        var firsts = mine.DistinctBy(d => d.Id).ToList();

        // Never invented: every delivered id is an event of the outbox; never lost: every event of the outbox arrived.
        Assert.Empty(firsts.Select(d => d.Id).Except(feed.Select(e => e.Id.ToString())));
        Assert.Empty(feed.Select(e => e.Id.ToString()).Except(firsts.Select(d => d.Id)));
        // In feed order, counting first deliveries.
        var position = feed.ToDictionary(e => e.Id.ToString(), e => e.FeedPosition);
        Assert.Equal(firsts.Select(d => position[d.Id]).Order(), firsts.Select(d => position[d.Id]));

        // Every committed coupon has its issued event with its code, user and sequence, and nothing more.
        var issued = firsts.Where(d => d.Type == "couponlive.coupon.issued.v1").Select(d => d.Event["data"]!)
            .Select(d => (Code: d["code"]!.GetValue<string>(), User: d["userId"]!.GetValue<string>(), Sequence: d["sequence"]!.GetValue<long>())).ToList();
        Assert.Equal(coupons.Select(c => (c.Code, User: c.UserId, c.Sequence)).Order(), issued.Order());
        Assert.Equal(after.Redeemed.Order(), firsts.Where(d => d.Type == "couponlive.coupon.redeemed.v1").Select(d => d.Event["data"]!["code"]!.GetValue<string>()).Order());
        Assert.Equal([after.Revoked], firsts.Where(d => d.Type == "couponlive.coupon.revoked.v1").Select(d => d.Event["data"]!["code"]!.GetValue<string>()));
        Assert.Single(firsts, d => d.Type == "couponlive.campaign.created.v1");

        var duplicates = mine.Count - firsts.Count;
        TestContext.Current.SendDiagnosticMessage(
            $"drill events, {drill}: {coupons.Count} coupons, {feed.Count} events in the outbox, {mine.Count} delivered, {firsts.Count} distinct, " +
            $"{duplicates} duplicates (same id){(pendingWhileDown is { } p ? $", {p} pending while the broker was down" : "")}");
    }
}
