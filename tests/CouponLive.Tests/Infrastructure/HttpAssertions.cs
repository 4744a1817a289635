using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CouponLive.Tests.Infrastructure;

public static class HttpAssertions
{
    /// <summary>Reads a ProblemDetails body and checks its status and stable code.</summary>
    public static async Task<JsonObject> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Xunit.Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Xunit.Assert.StartsWith("application/problem+json", response.Content.Headers.ContentType?.ToString() ?? "");
        var problem = JsonNode.Parse(text)!.AsObject();
        Xunit.Assert.Equal(code, problem["code"]?.GetValue<string>());
        Xunit.Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        return problem;
    }

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
