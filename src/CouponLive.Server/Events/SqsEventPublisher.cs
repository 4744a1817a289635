using System.Globalization;
using System.Text;
using Amazon;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Options;

namespace CouponLive.Events;

/// <summary>
/// The SQS transport: a FIFO queue, message group = the campaign (order holds per campaign, campaigns do not hold each
/// other up), deduplication id = the event id (a resend within SQS's five-minute window is dropped by SQS itself), the
/// CloudEvent as the body. Batches of ten, the most SQS takes, one after another in feed order; within a batch SQS keeps
/// the entries' order per group. An entry refused as the sender's fault (too large, invalid) would be refused again:
/// parked. Any other failure stops the step there, and the relay sends the rest again.
/// </summary>
public sealed partial class SqsEventPublisher(IOptions<EventsOptions> options, CloudEventJson json, ILogger<SqsEventPublisher> logger) : IEventPublisher, IDisposable
{
    private const int MaxBatch = 10;

    private readonly string _queueUrl = options.Value.Sqs.QueueUrl!;
    private readonly AmazonSQSClient _client = Client(options.Value.Sqs);

    private static AmazonSQSClient Client(EventsSqsOptions sqs)
    {
        var config = new AmazonSQSConfig { Timeout = TimeSpan.FromSeconds(10), MaxErrorRetry = 0 }; // the relay retries, with backoff
        if (sqs.ServiceUrl is { } service)
        {
            config.ServiceURL = service;
            config.AuthenticationRegion = sqs.Region;
        }
        else config.RegionEndpoint = RegionEndpoint.GetBySystemName(sqs.Region);
        return new AmazonSQSClient(config);
    }

    public async Task<PublishResult> PublishAsync(IReadOnlyList<StoredEvent> events, CancellationToken ct)
    {
        var done = 0;
        var parked = new List<ParkedEvent>();
        foreach (var batch in events.Chunk(MaxBatch))
        {
            SendMessageBatchResponse response;
            try
            {
                response = await _client.SendMessageBatchAsync(new SendMessageBatchRequest
                {
                    QueueUrl = _queueUrl,
                    Entries = [.. batch.Select((e, i) => new SendMessageBatchRequestEntry
                    {
                        Id = i.ToString(CultureInfo.InvariantCulture),
                        MessageBody = Encoding.UTF8.GetString(json.Encode(e)),
                        MessageGroupId = e.CampaignId.ToString(CultureInfo.InvariantCulture),
                        MessageDeduplicationId = e.Id.ToString("N"),
                        MessageAttributes = new Dictionary<string, MessageAttributeValue>
                        {
                            ["contentType"] = new() { DataType = "String", StringValue = CloudEventJson.ContentType },
                            ["type"] = new() { DataType = "String", StringValue = e.Type },
                        },
                    })],
                }, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                return new PublishResult(done, parked, ex);
            }

            // The batch's prefix up to the first entry that failed and is not the sender's fault counts as done.
            var failed = (response.Failed ?? []).ToDictionary(f => int.Parse(f.Id, CultureInfo.InvariantCulture));
            for (var i = 0; i < batch.Length; i++)
            {
                if (failed.TryGetValue(i, out var f))
                {
                    if (f.SenderFault == true)
                    {
                        parked.Add(new ParkedEvent(batch[i].FeedPosition, $"SQS {f.Code}: {f.Message}"));
                        done++;
                        continue;
                    }
                    LogEntryFailed(batch[i].FeedPosition, f.Code, f.Message);
                    return new PublishResult(done, parked, new AmazonSQSException($"SQS did not take the event at feed position {batch[i].FeedPosition}: {f.Code} {f.Message}"));
                }
                done++;
            }
        }
        return new PublishResult(done, parked);
    }

    public void Dispose() => _client.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event relay: SQS did not take the event at feed position {FeedPosition} ({Code}: {Reason}); it and the rest are sent again")]
    private partial void LogEntryFailed(long feedPosition, string code, string reason);
}
