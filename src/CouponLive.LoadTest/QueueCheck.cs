using System.Text.Json;
using RabbitMQ.Client;

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

    /// <summary>Consumes (and acks) the queue until it has been idle for 2 s with every stored coupon seen, or 2 s idle after 120 s.</summary>
    public static async Task<QueueCheck> ConsumeAsync(string uri, string queue, long campaignId, IReadOnlyDictionary<string, string> stored, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var connection = await new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync("couponlive-loadtest", ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        var partition = campaignId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var issued = new Dictionary<string, string>(StringComparer.Ordinal); // user -> code
        int messages = 0, duplicates = 0, withoutRow = 0;
        var lastMessage = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var got = await channel.BasicGetAsync(queue, autoAck: true, ct);
            if (got is null)
            {
                var idle = System.Diagnostics.Stopwatch.GetElapsedTime(lastMessage);
                if (idle >= Idle && (issued.Count >= stored.Count || System.Diagnostics.Stopwatch.GetElapsedTime(started) >= Limit)) break;
                await Task.Delay(20, ct);
                continue;
            }
            lastMessage = System.Diagnostics.Stopwatch.GetTimestamp();
            messages++;
            using var ce = JsonDocument.Parse(got.Body);
            var root = ce.RootElement;
            if (!seen.Add(root.GetProperty("id").GetString()!)) { duplicates++; continue; }
            if (root.GetProperty("partitionkey").GetString() != partition || root.GetProperty("type").GetString() != Events.EventTypes.CouponIssued) continue;
            var data = root.GetProperty("data");
            var user = data.GetProperty("userId").GetString()!;
            var code = data.GetProperty("code").GetString()!;
            if (!issued.TryAdd(user, code) || !stored.TryGetValue(user, out var row) || row != code) withoutRow++;
        }
        var withoutEvent = stored.Count(kv => !issued.TryGetValue(kv.Key, out var code) || code != kv.Value);
        return new QueueCheck(messages, issued.Count, duplicates, withoutRow, withoutEvent, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
