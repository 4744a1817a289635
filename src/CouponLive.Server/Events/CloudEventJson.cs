using System.Globalization;
using System.Net.Mime;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Extensions;
using CloudNative.CloudEvents.SystemTextJson;

namespace CouponLive.Events;

/// <summary>
/// An outbox event as a CloudEvent 1.0 in structured JSON (<c>application/cloudevents+json</c>), through the CloudEvents
/// SDK's formatter. The extension <c>partitionkey</c> is the campaign: the key a partitioned broker orders by.
/// </summary>
public sealed class CloudEventJson(Uri source)
{
    public const string ContentType = "application/cloudevents+json";

    private static readonly JsonEventFormatter Formatter = new();

    public ReadOnlyMemory<byte> Encode(StoredEvent e)
    {
        using var data = JsonDocument.Parse(e.Data);
        var ce = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = e.Id.ToString(),
            Source = source,
            Type = e.Type,
            Subject = e.Subject,
            Time = e.Time,
            DataContentType = MediaTypeNames.Application.Json,
            Data = data.RootElement,
        };
        ce.SetPartitionKey(e.CampaignId.ToString(CultureInfo.InvariantCulture));
        return Formatter.EncodeStructuredModeMessage(ce, out _);
    }
}
