using System.Globalization;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Samples of a /metrics page by series (name and labels as written); the format itself is checked by promtool.</summary>
public static class PrometheusText
{
    public static Dictionary<string, double> Parse(string text) => text
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Where(line => !line.StartsWith('#'))
        .Select(line => line.Split(' '))
        .ToDictionary(parts => parts[0], parts => double.Parse(parts[1], CultureInfo.InvariantCulture));

    public static async Task<Dictionary<string, double>> ReadAsync(HttpClient client) =>
        Parse(await client.GetStringAsync("/metrics"));
}
