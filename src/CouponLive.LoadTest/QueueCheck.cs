namespace CouponLive.LoadTest;

/// <summary>
/// What a downstream consumer of the RabbitMQ queue got for the campaign: issued events per stored coupon, duplicates
/// (the same event id again: at-least-once delivery), events naming a coupon without its row, and coupons without one.
/// </summary>
public sealed record QueueCheck(int Messages, int IssuedEvents, int Duplicates, int EventsWithoutRow, int CouponsWithoutEvent, double ConsumedInSeconds)
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"queue: {Messages:N0} messages in {ConsumedInSeconds:F1} s, {IssuedEvents:N0} issued events for this campaign, {Duplicates:N0} duplicates, " +
            $"{EventsWithoutRow:N0} without their row, {CouponsWithoutEvent:N0} coupons without their event");

    /// <summary>
    /// Waits until <paramref name="consumer"/> has been idle for 2 s with every stored coupon's event seen (or 2 s idle
    /// after 120 s), then holds what it got against the stored coupons.
    /// </summary>
    public static async Task<QueueCheck> CollectAsync(QueueConsumer consumer, long campaignId, IReadOnlyDictionary<string, string> stored, CancellationToken ct)
    {
        var waiting = System.Diagnostics.Stopwatch.GetTimestamp();
        var partition = campaignId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (!(consumer.Idle >= Idle && (consumer.IssuedFor(partition) >= stored.Count || System.Diagnostics.Stopwatch.GetElapsedTime(waiting) >= Limit)))
            await Task.Delay(50, ct);

        var events = consumer.Events;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var issued = new Dictionary<string, string>(StringComparer.Ordinal); // user -> code
        int duplicates = 0, withoutRow = 0;
        foreach (var e in events)
        {
            if (!seen.Add(e.Id)) { duplicates++; continue; }
            if (e.PartitionKey != partition || e.Type != Events.EventTypes.CouponIssued) continue;
            if (!issued.TryAdd(e.UserId!, e.Code!) || !stored.TryGetValue(e.UserId!, out var row) || row != e.Code) withoutRow++;
        }
        var withoutEvent = stored.Count(kv => !issued.TryGetValue(kv.Key, out var code) || code != kv.Value);
        return new QueueCheck(events.Count, issued.Count, duplicates, withoutRow, withoutEvent, consumer.ConsumedIn.TotalSeconds);
    }
}
