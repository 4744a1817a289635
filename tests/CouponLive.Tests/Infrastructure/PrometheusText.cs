using System.Globalization;
using System.Text.RegularExpressions;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// Samples of a /metrics page, looked up by name and the labels a test cares about (the exporter adds
/// others, such as otel_scope_name); the format itself is checked by promtool.
/// </summary>
public sealed partial class PrometheusText(IReadOnlyList<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> samples)
{
    public static PrometheusText Parse(string text)
    {
        var samples = new List<(string, IReadOnlyDictionary<string, string>, double)>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#')) continue;
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var name = brace >= 0 ? line[..brace] : line[..line.IndexOf(' ', StringComparison.Ordinal)];
            var labels = brace >= 0
                ? Label().Matches(line[brace..line.LastIndexOf('}')]).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value)
                : new Dictionary<string, string>();
            samples.Add((name, labels, double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture)));
        }
        return new PrometheusText(samples);
    }

    public static async Task<PrometheusText> ReadAsync(HttpClient client) => Parse(await client.GetStringAsync("/metrics"));

    /// <summary>The value of the series with this name and these labels (others ignored); 0 when there is none.</summary>
    public double Get(string name, params (string Key, string Value)[] labels) => samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
        .Select(s => s.Value)
        .FirstOrDefault();

    /// <summary>The sum of every series with this name and these labels (0 when there is none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))
        .Sum(s => s.Value);

    /// <summary>
    /// A counter summed over several server processes (each scraped once), e.g. the issue requests all of them shed.
    /// </summary>
    public static async Task<double> SumAsync(IEnumerable<Uri> servers, string name, params (string Key, string Value)[] labels)
    {
        var total = 0.0;
        foreach (var server in servers)
        {
            using var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
            total += (await ReadAsync(client)).Sum(name, labels);
        }
        return total;
    }

    public bool Has(string name, params (string Key, string Value)[] labels) =>
        samples.Any(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)""")]
    private static partial Regex Label();
}
