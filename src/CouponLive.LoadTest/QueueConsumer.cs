using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace CouponLive.LoadTest;

/// <summary>
/// A downstream consumer of the RabbitMQ queue, reading from before the run starts as a live wallet or CRM would:
/// pushed deliveries (prefetch 1,000), acked in batches. The queue stays short, so the broker does the work it does
/// in a deployment rather than holding the whole sale on disk until the end.
/// </summary>
public sealed class QueueConsumer : IAsyncDisposable
{
    private const int AckEvery = 100;

    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private readonly Lock _lock = new();
    private readonly List<QueuedEvent> _events = [];
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _lastMessage = System.Diagnostics.Stopwatch.GetTimestamp();
    private int _unacked;

    private QueueConsumer(IConnection connection, IChannel channel) => (_connection, _channel) = (connection, channel);

    public static async Task<QueueConsumer> StartAsync(string uri, string queue, CancellationToken ct)
    {
        var connection = await new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync("couponlive-loadtest", ct);
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await channel.BasicQosAsync(0, 1000, global: false, ct);
        var consumer = new QueueConsumer(connection, channel);
        var deliveries = new AsyncEventingBasicConsumer(channel);
        deliveries.ReceivedAsync += consumer.OnReceivedAsync;
        await channel.BasicConsumeAsync(queue, autoAck: false, deliveries, ct);
        return consumer;
    }

    /// <summary>Every message so far, in delivery order.</summary>
    public IReadOnlyList<QueuedEvent> Events
    {
        get { lock (_lock) return [.. _events]; }
    }

    /// <summary>How long since the last message arrived.</summary>
    public TimeSpan Idle => System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastMessage));

    /// <summary>From the start to the last message.</summary>
    public TimeSpan ConsumedIn => System.Diagnostics.Stopwatch.GetElapsedTime(_started, Interlocked.Read(ref _lastMessage));

    /// <summary>Issued events seen for the campaign (partition key) so far, duplicates included.</summary>
    public int IssuedFor(string partition)
    {
        lock (_lock) return _events.Count(e => e.PartitionKey == partition && e.Type == CouponLive.Events.EventTypes.CouponIssued);
    }

    private async Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        using (var ce = JsonDocument.Parse(delivery.Body)) // the body is only valid during this call
        {
            var root = ce.RootElement;
            var type = root.GetProperty("type").GetString();
            string? user = null, code = null;
            if (type == CouponLive.Events.EventTypes.CouponIssued)
            {
                var data = root.GetProperty("data");
                (user, code) = (data.GetProperty("userId").GetString(), data.GetProperty("code").GetString());
            }
            var e = new QueuedEvent(root.GetProperty("id").GetString()!, root.GetProperty("partitionkey").GetString(), type, user, code);
            lock (_lock) _events.Add(e);
        }
        Interlocked.Exchange(ref _lastMessage, System.Diagnostics.Stopwatch.GetTimestamp());
        // Deliveries of one channel come one at a time: no lock for the count.
        if (++_unacked >= AckEvery)
        {
            _unacked = 0;
            await _channel.BasicAckAsync(delivery.DeliveryTag, multiple: true, delivery.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // What was not acked goes back to the queue; the queue is the caller's to delete.
        await _channel.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
