using CouponLive.Storage;

namespace CouponLive.LoadTest;

/// <summary>
/// Reads the campaign through the server's own store (PostgreSQL, MySQL or the embedded SQLite file) and checks
/// I1-I4 (<see cref="ICouponStore.CheckInvariantsAsync"/>), that every success answer names the coupon
/// stored for that user (I2, I5 as the crowd saw them) and, after a clean sell-out, that exactly the
/// quantity was issued (I6).
/// </summary>
public static class InvariantCheck
{
    public static async Task<InvariantResult> RunAsync(
        LoadOptions o, long campaignId, int quantity, LoadUser[] users, RunStats stats, QueueConsumer? consumer, CancellationToken ct)
    {
        var violations = new List<string>();
        // Checks that need no database: what the crowd was told.
        if (stats.ConflictingAnswers > 0) violations.Add($"I2 {stats.ConflictingAnswers} answers gave a user a different code than before");
        if (stats.Count(Outcome.Issued) > quantity) violations.Add($"I1 {stats.Count(Outcome.Issued)} fresh issue answers for {quantity} coupons");

        var answered = 0;
        for (var u = 0; u < users.Length; u++) if (stats.CodeOf(u) is not null) answered++;

        ICouponStore? store = null;
        string source;
        if (o.Postgres is not null)
        {
            store = PostgresCouponStore.Open(o.Postgres);
            source = "postgres";
        }
        else if (o.MySql is not null)
        {
            store = MySqlCouponStore.Open(o.MySql);
            source = "mysql";
        }
        else if (o.Sqlite is not null)
        {
            if (!File.Exists(o.Sqlite)) throw new FileNotFoundException($"No SQLite database at {o.Sqlite}.");
            store = new SqliteCouponStore(o.Sqlite);
            source = "sqlite " + o.Sqlite;
        }
        else
        {
            return new InvariantResult(false, "not checked (give --postgres, --mysql or --sqlite)", null, violations, answered, 0, 0, 0);
        }

        try
        {
            var report = await store.CheckInvariantsAsync(campaignId, ct);
            violations.AddRange(report.Violations());

            var drainStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var stored = new Dictionary<string, string>(StringComparer.Ordinal);
            long after = 0;
            while (true)
            {
                var page = await store.ListCouponsAsync(campaignId, after, 10_000, ct);
                foreach (var c in page) stored[c.UserId] = c.Code;
                if (page.Count < 10_000) break;
                after = page[^1].Sequence;
            }

            int matched = 0, mismatched = 0;
            for (var u = 0; u < users.Length; u++)
            {
                if (stats.CodeOf(u) is not { } code) continue;
                if (stored.TryGetValue(users[u].UserId, out var storedCode) && storedCode == code) matched++;
                else mismatched++;
            }
            if (mismatched > 0) violations.Add($"I5 {mismatched} success answers have no matching stored coupon (user + code)");

            // A clean sell-out (no errors, nothing cut off) must have committed exactly the quantity.
            var cleanSellOut = stats.Count(Outcome.SoldOut) > 0 && stats.Errors == 0 && stats.Count(Outcome.CutOff) == 0;
            if (cleanSellOut && !report.SoldExactly) violations.Add($"I6 sold out with {report.Rows} of {report.TotalQuantity} coupons stored");

            // Rows nobody here was told about: other clients, or answers lost to timeouts. Reported, not a failure.
            var answeredIds = new HashSet<string>(StringComparer.Ordinal);
            for (var u = 0; u < users.Length; u++) if (stats.CodeOf(u) is not null) answeredIds.Add(users[u].UserId);
            var withoutAnswer = stored.Keys.Count(k => !answeredIds.Contains(k));
            EventCheck? events = null;
            if (o.CheckEvents || o.RabbitMq is not null)
            {
                events = await CheckEventsAsync((IEventStore)store, campaignId, stored, drainStarted, readFeed: o.CheckEvents, ct);
                if (events.CouponsWithoutEvent > 0 || events.EventsWithoutCoupon > 0) violations.Add($"I9 {events}");
            }
            QueueCheck? queue = null;
            if (consumer is not null)
            {
                queue = await QueueCheck.CollectAsync(consumer, campaignId, stored, ct);
                if (queue.CouponsWithoutEvent > 0 || queue.EventsWithoutRow > 0) violations.Add($"I9 {queue}");
            }
            return new InvariantResult(true, source, report, violations, answered, matched, mismatched, withoutAnswer) { Events = events, Queue = queue };
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
    }

    /// <summary>
    /// Waits (bounded) until the outbox has nothing pending; with <paramref name="readFeed"/>, then holds the campaign's
    /// issued events in the feed against the stored coupons (a read of every event: not while measuring the store's CPU).
    /// </summary>
    private static async Task<EventCheck> CheckEventsAsync(IEventStore events, long campaignId, Dictionary<string, string> stored, long started, bool readFeed, CancellationToken ct)
    {
        double? drainedAfter = null;
        long pending;
        while ((pending = (await events.GetEventBacklogAsync(ct)).Pending) > 0 && System.Diagnostics.Stopwatch.GetElapsedTime(started) < EventCheck.EventsCheckTimeout)
            await Task.Delay(50, ct);
        if (pending == 0) drainedAfter = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (!readFeed) return new EventCheck(null, 0, 0, drainedAfter, pending);

        var issued = new Dictionary<string, string>(StringComparer.Ordinal); // user -> code
        var withoutCoupon = 0;
        long after = 0;
        while (true)
        {
            var page = await events.ReadEventFeedAsync(after, 5_000, ct);
            foreach (var e in page.Where(e => e.CampaignId == campaignId && e.Type == Events.EventTypes.CouponIssued))
            {
                using var data = System.Text.Json.JsonDocument.Parse(e.Data);
                var user = data.RootElement.GetProperty("userId").GetString()!;
                var code = data.RootElement.GetProperty("code").GetString()!;
                if (!issued.TryAdd(user, code) || !stored.TryGetValue(user, out var row) || row != code) withoutCoupon++;
            }
            if (page.Count < 5_000) break;
            after = page[^1].FeedPosition;
        }
        var withoutEvent = stored.Count(kv => !issued.TryGetValue(kv.Key, out var code) || code != kv.Value);
        return new EventCheck(issued.Count, withoutEvent, withoutCoupon, drainedAfter, pending);
    }
}
