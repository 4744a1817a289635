using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Events;
using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CouponLive.Tests.Events;

/// <summary>
/// The relay against a real store (SQLite) and a broker that records, fails or refuses: one relay at a time, another
/// takes over when it stops, nothing is marked sent before the broker confirms, and the order is the feed's.
/// </summary>
public sealed class EventRelayTests : IAsyncDisposable
{
    private static readonly CouponCodeCodec Codec = new("event-relay-tests-key"u8);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"couponlive-relay-{Guid.NewGuid():N}");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A broker that keeps what it confirmed; while <see cref="Down"/> it fails every publish, after confirming the first <see cref="ConfirmBeforeFailing"/>.</summary>
    private sealed class RecordingBroker : IEventPublisher
    {
        public ConcurrentQueue<StoredEvent> Confirmed { get; } = new();
        public volatile bool Down;
        public int ConfirmBeforeFailing;
        public int Calls;

        public Task<PublishResult> PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            if (!Down)
            {
                foreach (var e in events) Confirmed.Enqueue(e);
                return Task.FromResult(new PublishResult(events.Count, []));
            }
            var done = Math.Min(ConfirmBeforeFailing, events.Count);
            foreach (var e in events.Take(done)) Confirmed.Enqueue(e);
            return Task.FromResult(new PublishResult(done, [], new IOException("broker unreachable")));
        }
    }

    private async Task<(SqliteCouponStore Store, long Campaign)> StoreAsync()
    {
        Directory.CreateDirectory(_folder);
        var store = new SqliteCouponStore(Path.Combine(_folder, "couponlive.db"));
        await store.InitializeAsync(Ct);
        var now = DateTimeOffset.UtcNow;
        var id = await store.TryCreateCampaignAsync(new CampaignDefinition("relay", 1000, [new CampaignWindow(now.AddHours(-1), now.AddHours(1), null)], null, null), now, Ct);
        return (store, id!.Value);
    }

    private static async Task CommitAsync(SqliteCouponStore store, long campaign, int from, int count) =>
        await store.CommitAsync([.. Enumerable.Range(from, count).Select(i =>
            new IssuedCoupon(campaign, $"user-{i}", i, Codec.Encode(campaign, i), DateTimeOffset.UtcNow, CouponSource.Window(0)))], Ct);

    private EventRelay Relay(SqliteCouponStore store, RecordingBroker broker) =>
        new(store, broker, new EventMetrics(_services.GetRequiredService<IMeterFactory>(), TimeProvider.System),
            Options.Create(new EventsOptions { LeaseTime = TimeSpan.FromSeconds(3), PollInterval = TimeSpan.FromMilliseconds(20), BatchSize = 7 }),
            TimeProvider.System, NullLogger<EventRelay>.Instance);

    private static async Task WaitUntilAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task One_relay_publishes_at_a_time_and_another_takes_over_when_it_stops()
    {
        var (store, campaign) = await StoreAsync();
        await CommitAsync(store, campaign, 1, 30);
        RecordingBroker first = new(), second = new();
        var a = Relay(store, first);
        var b = Relay(store, second);
        await a.StartAsync(Ct);
        await WaitUntilAsync(() => a.IsHolding, "a holds the lease");
        await b.StartAsync(Ct);
        await WaitUntilAsync(() => first.Confirmed.Count == 31, "the created event and 30 issued are confirmed");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await store.GetEventBacklogAsync(Ct)).Pending > 0) // and marked sent
        {
            Assert.True(DateTime.UtcNow < deadline, "a marked its events sent");
            await Task.Delay(20, Ct);
        }
        Assert.Empty(second.Confirmed);
        Assert.False(b.IsHolding);

        await a.StopAsync(Ct);
        await CommitAsync(store, campaign, 31, 20);
        await WaitUntilAsync(() => second.Confirmed.Count == 20, "b took over and confirmed the 20 new ones");
        await b.StopAsync(Ct);

        var published = first.Confirmed.Concat(second.Confirmed).ToList();
        Assert.Equal(Enumerable.Range(1, 51).Select(i => (long)i), published.Select(e => e.FeedPosition));
        Assert.Equal(EventTypes.CampaignCreated, published[0].Type);
        Assert.Equal(published, await store.ReadEventFeedAsync(0, 100, Ct));
        Assert.Equal(new EventBacklog(0, null, 0), await store.GetEventBacklogAsync(Ct));
    }

    [Fact]
    public async Task While_the_broker_is_down_events_wait_and_then_go_out_once_in_order()
    {
        var (store, campaign) = await StoreAsync();
        var broker = new RecordingBroker { Down = true, ConfirmBeforeFailing = 3 };
        var relay = Relay(store, broker);
        await CommitAsync(store, campaign, 1, 10);
        await relay.StartAsync(Ct);
        await WaitUntilAsync(() => Volatile.Read(ref broker.Calls) >= 3, "the relay tried three times");
        broker.ConfirmBeforeFailing = 0;
        await CommitAsync(store, campaign, 11, 10); // the sale goes on while the broker is down
        var backlog = await store.GetEventBacklogAsync(Ct);
        Assert.True(backlog.Pending > 0, "events wait in the outbox");
        Assert.NotNull(backlog.OldestPending);

        broker.Down = false;
        await WaitUntilAsync(() => broker.Confirmed.Count >= 21, "everything is confirmed after the broker returns");
        await Task.Delay(200, Ct); // and nothing more comes
        await relay.StopAsync(Ct);

        // What the broker confirmed before failing is marked sent with the rest: each event once, in feed order.
        var confirmed = broker.Confirmed.ToList();
        Assert.Equal(Enumerable.Range(1, 21).Select(i => (long)i), confirmed.Select(e => e.FeedPosition));
        Assert.Equal(20, confirmed.Count(e => e.Type == EventTypes.CouponIssued));
        Assert.Equal(new EventBacklog(0, null, 0), await store.GetEventBacklogAsync(Ct));
    }
}
