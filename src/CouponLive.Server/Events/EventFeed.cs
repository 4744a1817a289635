using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace CouponLive.Events;

/// <summary>A page of the feed as JSON: <c>{"items":[CloudEvent…],"next":"&lt;cursor&gt;"}</c>, oldest first; <c>next</c> is the cursor to ask after (the same one when the page is empty).</summary>
public static class EventFeed
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static byte[] Write(IReadOnlyList<StoredEvent> events, long after, CloudEventJson json)
    {
        var buffer = new ArrayBufferWriter<byte>(1024 + 600 * events.Count);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var e in events) json.Write(w, e);
            w.WriteEndArray();
            w.WriteString("next", (events.Count > 0 ? events[^1].FeedPosition : after).ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
