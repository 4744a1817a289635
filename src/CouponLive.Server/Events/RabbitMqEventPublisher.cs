using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CouponLive.Events;

/// <summary>
/// The RabbitMQ transport: each event a persistent message (the CloudEvent in structured JSON, message id = event id)
/// to a durable topic exchange, routing key = the event type. Publisher confirms with tracking: a publish completes
/// once the broker has the message (for a durable queue, on disk); a nack, a timeout or a lost connection fails the
/// rest of the batch, which the relay sends again. Mandatory, and the exchange's alternate exchange
/// <c>&lt;exchange&gt;.unrouted</c> keeps what no queue is bound for: never lost, and never holding up the feed.
/// </summary>
public sealed partial class RabbitMqEventPublisher(
    IConfiguration config, IOptions<EventsOptions> options, CloudEventJson json, ILogger<RabbitMqEventPublisher> logger) : IEventPublisher, IAsyncDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    private readonly string _exchange = options.Value.Exchange;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    public async Task<PublishResult> PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(PublishTimeout);
            IChannel channel;
            try
            {
                channel = await ChannelAsync(timeout.Token);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                await ResetAsync();
                return new PublishResult(0, [], ex);
            }

            // All sent at once, in order, on one channel; then each confirm awaited in that order.
            var confirms = new Task[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                var properties = new BasicProperties
                {
                    MessageId = e.Id.ToString(),
                    ContentType = CloudEventJson.ContentType,
                    DeliveryMode = DeliveryModes.Persistent,
                    Type = e.Type,
                    Timestamp = new AmqpTimestamp(e.Time.ToUnixTimeSeconds()),
                    AppId = "couponlive",
                };
                confirms[i] = channel.BasicPublishAsync(_exchange, e.Type, mandatory: true, properties, json.Encode(e), timeout.Token).AsTask();
            }
            var done = 0;
            Exception? failure = null;
            foreach (var confirm in confirms)
            {
                try
                {
                    await confirm;
                    if (failure is null) done++;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    failure ??= ex is OperationCanceledException ? new TimeoutException($"RabbitMQ did not confirm within {PublishTimeout.TotalSeconds:0} s.", ex) : ex;
                }
            }
            if (failure is not null)
            {
                if (failure is PublishException { IsReturn: true }) LogReturned(_exchange);
                await ResetAsync(); // a fresh channel next time: nothing half-confirmed carries over
            }
            return new PublishResult(done, [], failure);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IChannel> ChannelAsync(CancellationToken ct)
    {
        if (_channel is { IsOpen: true } open) return open;
        await ResetAsync();
        var factory = new ConnectionFactory
        {
            Uri = new Uri(config.GetConnectionString("RabbitMq")!),
            AutomaticRecoveryEnabled = false, // the relay retries with backoff; each try starts from a fresh connection
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
        _connection = await factory.CreateConnectionAsync("couponlive-events", ct);
        // No throttle on outstanding confirms (the client's default delays publishes past 64): the relay's batch bounds them.
        _channel = await _connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null), ct);
        var unrouted = _exchange + ".unrouted";
        await _channel.ExchangeDeclareAsync(unrouted, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
        await _channel.QueueDeclareAsync(unrouted, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
        await _channel.QueueBindAsync(unrouted, unrouted, "", cancellationToken: ct);
        await _channel.ExchangeDeclareAsync(_exchange, ExchangeType.Topic, durable: true, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["alternate-exchange"] = unrouted }, cancellationToken: ct);
        LogConnected(_connection.Endpoint.ToString(), _exchange);
        return _channel;
    }

    private async Task ResetAsync()
    {
        var (channel, connection) = (_channel, _connection);
        (_channel, _connection) = (null, null);
        try
        {
            if (channel is not null) await channel.DisposeAsync();
            if (connection is not null) await connection.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogCloseFailed(ex.GetType().Name, ex.Message); // the connection is gone either way
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ResetAsync();
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Event relay: connected to RabbitMQ at {Endpoint}, publishing to exchange {Exchange}")]
    private partial void LogConnected(string endpoint, string exchange);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event relay: RabbitMQ returned an event as unroutable (exchange {Exchange} and its alternate exchange have no queue for it); it waits and is sent again")]
    private partial void LogReturned(string exchange);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event relay: closing the RabbitMQ connection failed ({Error}: {Reason})")]
    private partial void LogCloseFailed(string error, string reason);
}
