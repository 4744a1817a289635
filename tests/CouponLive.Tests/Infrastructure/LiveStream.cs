using System.Net;
using System.Text.Json.Nodes;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Reads a campaign's live view (server-sent events) as the dashboard does.</summary>
public static class LiveStream
{
    /// <summary>The first event of the stream: the campaign, its outcome names and its recent seconds.</summary>
    public static async Task<JsonObject> FirstEventAsync(HttpClient client, long campaignId)
    {
        using var response = await client.GetAsync($"/api/v1/campaigns/{campaignId}/live", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var line = await reader.ReadLineAsync();
        Assert.StartsWith("data: ", line);
        return JsonNode.Parse(line!["data: ".Length..])!.AsObject();
    }

    /// <summary>
    /// Outcome totals over the stream's seconds, read again until they add up to <paramref name="atLeast"/>
    /// (figures are published once each second is over) or 30 s pass (generous: a busy machine publishes late); with the last event read.
    /// </summary>
    public static async Task<(Dictionary<string, long> Totals, JsonObject Snapshot)> TotalsAsync(HttpClient client, long campaignId, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var snapshot = await FirstEventAsync(client, campaignId);
            var names = snapshot["outcomeNames"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            var totals = names.ToDictionary(n => n, n => snapshot["seconds"]!.AsArray().Sum(s => s!["outcomes"]![names.IndexOf(n)]!.GetValue<long>()));
            if (totals.Values.Sum() >= atLeast || DateTime.UtcNow >= deadline) return (totals, snapshot);
            await Task.Delay(250);
        }
    }
}
