using System.Net.Http.Json;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Campaigns made over HTTP, as an operator would, on any server or load balancer address.</summary>
public static class TestCampaigns
{
    /// <summary>A campaign open from a second ago for ten minutes; its id.</summary>
    public static async Task<long> CreateAsync(Uri server, int quantity)
    {
        using var client = new HttpClient { BaseAddress = server };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Mint("operator", "admin"));
        var response = await client.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "campaign-" + Guid.NewGuid(),
            totalQuantity = quantity,
            issueStartsAt = DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O"),
            issueEndsAt = DateTimeOffset.UtcNow.AddMinutes(10).ToString("O"),
        });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Creating the campaign failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.ReadJsonAsync())["id"]!.GetValue<long>();
    }
}
