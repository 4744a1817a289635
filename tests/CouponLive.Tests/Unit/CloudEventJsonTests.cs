using System.Globalization;
using System.Net.Mime;
using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Extensions;
using CloudNative.CloudEvents.SystemTextJson;
using CouponLive.Events;

namespace CouponLive.Tests.Unit;

/// <summary>
/// The hand-written CloudEvent encoder against the CloudEvents SDK as the oracle: the SDK decodes every attribute and
/// the data as written, and the SDK's own encoding of the same event decodes to the same thing.
/// </summary>
public sealed class CloudEventJsonTests
{
    private static readonly JsonEventFormatter Sdk = new();

    private static readonly StoredEvent Issued = new(
        17, Guid.Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), 12, "couponlive.coupon.issued.v1", "campaigns/12/coupons/AB12-CD34",
        new DateTimeOffset(2026, 12, 4, 10, 0, 0, 123, TimeSpan.Zero).AddTicks(4567),
        """{"campaignId":12,"campaignName":"Caf\u00e9 \"50%\" <off>","code":"AB12-CD34","userId":"user-\u314e","sequence":7,"window":0,"issuedAt":"2026-12-04T10:00:00.1234567Z","tags":[1,2.5,null,true]}""");

    [Theory]
    [InlineData("/couponlive")]
    [InlineData("https://coupons.example.com/events")]
    [InlineData("urn:couponlive:prod")]
    public void The_sdk_reads_every_attribute_and_the_data_as_written(string source)
    {
        var bytes = new CloudEventJson(source).Encode(Issued);

        var ce = Sdk.DecodeStructuredModeMessage(bytes, new ContentType(CloudEventJson.ContentType), extensionAttributes: [Partitioning.PartitionKeyAttribute, Sequence.SequenceAttribute]);

        Assert.Equal(CloudEventsSpecVersion.V1_0, ce.SpecVersion);
        Assert.Equal(Issued.Id.ToString(), ce.Id);
        Assert.Equal(source, ce.Source!.OriginalString);
        Assert.Equal(Issued.Type, ce.Type);
        Assert.Equal(Issued.Subject, ce.Subject);
        Assert.Equal(Issued.Time, ce.Time);
        Assert.Equal(TimeSpan.Zero, ce.Time!.Value.Offset);
        Assert.Equal("application/json", ce.DataContentType);
        Assert.Equal("12", ce.GetPartitionKey());
        Assert.Equal("00000000000000000017", ce[Sequence.SequenceAttribute]);
        var data = Assert.IsType<JsonElement>(ce.Data);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(Issued.Data).RootElement, data));
        Assert.Equal("Café \"50%\" <off>", data.GetProperty("campaignName").GetString());
        Assert.Equal(8, ce.GetPopulatedAttributes().Count()); // nothing more than these (specversion and data are not attributes to the SDK)
    }

    [Fact]
    public void Our_encoding_and_the_sdks_decode_to_the_same_event()
    {
        var ours = Sdk.DecodeStructuredModeMessage(new CloudEventJson("/couponlive").Encode(Issued), new ContentType(CloudEventJson.ContentType), [Partitioning.PartitionKeyAttribute, Sequence.SequenceAttribute]);

        using var data = JsonDocument.Parse(Issued.Data);
        var reference = new CloudEvent(CloudEventsSpecVersion.V1_0)
        {
            Id = Issued.Id.ToString(),
            Source = new Uri("/couponlive", UriKind.Relative),
            Type = Issued.Type,
            Subject = Issued.Subject,
            Time = Issued.Time,
            DataContentType = MediaTypeNames.Application.Json,
            Data = data.RootElement,
        };
        reference.SetPartitionKey(Issued.CampaignId.ToString(CultureInfo.InvariantCulture));
        reference[Sequence.SequenceAttribute] = Issued.FeedPosition.ToString("D20", CultureInfo.InvariantCulture);
        var theirs = Sdk.DecodeStructuredModeMessage(Sdk.EncodeStructuredModeMessage(reference, out _), new ContentType(CloudEventJson.ContentType), [Partitioning.PartitionKeyAttribute, Sequence.SequenceAttribute]);

        var attributes = ours.GetPopulatedAttributes().ToDictionary(a => a.Key.Name, a => a.Key.Format(a.Value));
        Assert.Equal(theirs.GetPopulatedAttributes().ToDictionary(a => a.Key.Name, a => a.Key.Format(a.Value)), attributes);
        Assert.True(JsonElement.DeepEquals((JsonElement)theirs.Data!, (JsonElement)ours.Data!));
    }

    [Fact]
    public void Sequences_order_as_strings_as_their_feed_positions_do()
    {
        var json = new CloudEventJson("/couponlive");
        long[] positions = [1, 9, 10, 99, 100, 123_456_789_012, long.MaxValue];

        var sequences = positions.Select(p => JsonDocument.Parse(json.Encode(Issued with { FeedPosition = p })).RootElement.GetProperty("sequence").GetString()!).ToList();

        Assert.Equal(sequences.Order(StringComparer.Ordinal), sequences);
        Assert.Equal(positions, sequences.Select(q => long.Parse(q, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void An_event_in_the_feed_is_the_same_json_as_on_its_own()
    {
        var json = new CloudEventJson("/couponlive");
        var second = Issued with { FeedPosition = 18, Id = Guid.NewGuid(), Type = "couponlive.campaign.changed.v1", Data = """{"campaignId":12,"changes":["paused"]}""" };

        var page = JsonDocument.Parse(EventFeed.Write([Issued, second], 16, json)).RootElement;

        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(json.Encode(Issued)).RootElement, items[0]));
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(json.Encode(second)).RootElement, items[1]));
        Assert.Equal("18", page.GetProperty("next").GetString());
    }

    [Fact]
    public void Data_that_is_not_json_is_refused_rather_than_sent()
    {
        var json = new CloudEventJson("/couponlive");

        Assert.Throws<InvalidDataException>(() => json.Encode(Issued with { Data = """{"campaignId":12""" }));
        Assert.Throws<InvalidDataException>(() => json.Encode(Issued with { Data = "" }));
        // The buffer a failed encode leaves behind does not leak into the next one.
        Assert.Equal(Encoding.UTF8.GetString(json.Encode(Issued)), Encoding.UTF8.GetString(json.Encode(Issued)));
    }
}
