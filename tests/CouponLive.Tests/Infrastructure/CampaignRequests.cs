using System.Text;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Requests an operator sends to change a campaign.</summary>
public static class CampaignRequests
{
    /// <summary>PATCH /api/v1/campaigns/{id} with a merge patch, and If-Match when given.</summary>
    public static async Task<HttpResponseMessage> PatchCampaignAsync(this HttpClient client, long id, string json, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/campaigns/{id}")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/merge-patch+json"),
        };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await client.SendAsync(request);
    }

    /// <summary>An instant as the API writes it (UTC, milliseconds).</summary>
    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
