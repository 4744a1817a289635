using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CouponLive.LoadTest;

/// <summary>Writes report.json and a self-contained report.html (inline SVG, no scripts or external files).</summary>
public static class ReportWriter
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static async Task<(string Json, string Html)> WriteAsync(LoadReport report, string? directory, CancellationToken ct)
    {
        directory ??= Path.Combine("loadtest-results", report.StartedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + report.Scenario);
        Directory.CreateDirectory(directory);
        var json = Path.GetFullPath(Path.Combine(directory, "report.json"));
        var html = Path.GetFullPath(Path.Combine(directory, "report.html"));
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(report, Json), ct);
        await File.WriteAllTextAsync(html, Html(report), ct);
        return (json, html);
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
    private static string F(double v, string format = "F2") => v.ToString(format, CultureInfo.InvariantCulture);

    public static string Html(LoadReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var seconds = r.Timeline.Select(t => (double)t.Second).ToArray();
        var b = new StringBuilder();
        b.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>CouponLive load report</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
            h1{font-size:20px} h2{font-size:16px;margin-top:28px}
            table{border-collapse:collapse} td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            .pass{color:#0a7a2f;font-weight:bold} .fail{color:#b00020;font-weight:bold}
            svg{background:#fafafa;border:1px solid #ddd} .legend span{margin-right:14px}
            </style></head><body>
            """);
        b.AppendLine(c, $"<h1>CouponLive {E(r.Scenario)} — campaign {r.CampaignId}, {r.Quantity:N0} coupons, {r.Users:N0} users</h1>");
        b.AppendLine(c, $"<p class=\"{(r.Passed ? "pass" : "fail")}\">{(r.Passed ? "PASS" : "FAIL")}: {E(r.Invariants.Passed ? (r.Invariants.Checked ? "invariants I1-I4 hold and every success answer matches a stored coupon" : r.Invariants.Source) : string.Join("; ", r.Invariants.Violations))}</p>");
        b.AppendLine(c, $"<p>Started {r.StartedAt:u} against {E(string.Join(", ", r.Targets))}; stopped by {E(r.StoppedBy)}.</p>");

        b.AppendLine("<h2>Summary</h2><table>");
        void Row(string k, string v) => b.AppendLine(c, $"<tr><th>{E(k)}</th><td class=\"n\">{E(v)}</td></tr>");
        Row("requests", r.Requests.ToString("N0", c));
        Row("elapsed", F(r.ElapsedSeconds, "F3") + " s");
        Row("throughput", r.Throughput.ToString("N0", c) + " req/s");
        Row("latency p50 / p90 / p99 / p99.9 / max", $"{F(r.Latency.P50Ms)} / {F(r.Latency.P90Ms)} / {F(r.Latency.P99Ms)} / {F(r.Latency.P999Ms)} / {F(r.Latency.MaxMs)} ms");
        Row("sold out after", r.SoldOutAfterSeconds is { } s ? F(s, "F3") + " s" : "not observed");
        foreach (var (k, v) in r.Outcomes.Where(kv => kv.Value > 0)) Row(k, v.ToString("N0", c));
        foreach (var (k, v) in r.ErrorsByKind) Row("error: " + k, v.ToString("N0", c));
        if (r.Invariants.Store is { } st) Row("database", st.ToString());
        Row("answers matched / mismatched", $"{r.Invariants.MatchedAnswers:N0} / {r.Invariants.MismatchedAnswers:N0}");
        if (r.Invariants.Events is { } events) Row("events (outbox)", events.ToString());
        if (r.Invariants.Queue is { } queue) Row("events (RabbitMQ queue)", queue.ToString());
        b.AppendLine("</table>");

        b.AppendLine("<h2>Requests per second</h2>");
        b.AppendLine(Chart("chart-rps", seconds, "req/s", [("completed", "#1f77b4", r.Timeline.Select(t => (double)t.Requests).ToArray()),
                                                             ("sold out", "#ff7f0e", r.Timeline.Select(t => (double)t.SoldOut).ToArray()),
                                                             ("errors", "#d62728", r.Timeline.Select(t => (double)t.Errors).ToArray())]));
        b.AppendLine("<h2>Issued coupons (cumulative)</h2>");
        b.AppendLine(Chart("chart-issued", seconds, "coupons", [("issued", "#2ca02c", r.Timeline.Select(t => (double)t.IssuedTotal).ToArray())]));
        b.AppendLine("<h2>Latency percentiles per second (ms)</h2>");
        b.AppendLine(Chart("chart-latency", seconds, "ms", [("p50", "#1f77b4", r.Timeline.Select(t => t.P50Ms).ToArray()),
                                                           ("p90", "#9467bd", r.Timeline.Select(t => t.P90Ms).ToArray()),
                                                           ("p99", "#ff7f0e", r.Timeline.Select(t => t.P99Ms).ToArray()),
                                                           ("max", "#d62728", r.Timeline.Select(t => t.MaxMs).ToArray())]));
        b.AppendLine("</body></html>");
        return b.ToString();
    }

    /// <summary>A line chart as inline SVG: x in seconds, one polyline per series, a legend, round axis ticks.</summary>
    public static string Chart(string id, double[] xs, string unit, (string Name, string Color, double[] Values)[] series)
    {
        const int W = 900, H = 260, L = 70, R = 20, T = 15, B = 35;
        var c = CultureInfo.InvariantCulture;
        var xMax = Math.Max(1, xs.Length == 0 ? 1 : xs.Max());
        var yMax = NiceCeiling(Math.Max(1e-9, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max()));
        double X(double x) => L + (x / xMax * (W - L - R));
        double Y(double y) => H - B - (y / yMax * (H - T - B));
        var b = new StringBuilder();
        b.AppendLine(c, $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\">");
        for (var i = 0; i <= 4; i++)
        {
            var v = yMax * i / 4;
            b.AppendLine(c, $"<line x1=\"{L}\" x2=\"{W - R}\" y1=\"{F(Y(v), "F1")}\" y2=\"{F(Y(v), "F1")}\" stroke=\"#ddd\"/><text x=\"{L - 6}\" y=\"{F(Y(v) + 4, "F1")}\" font-size=\"11\" text-anchor=\"end\">{Label(v)}</text>");
        }
        var step = Math.Max(1, (int)NiceCeiling(xMax / 10));
        for (var x = 0; x <= xMax; x += step)
            b.AppendLine(c, $"<text x=\"{F(X(x), "F1")}\" y=\"{H - B + 16}\" font-size=\"11\" text-anchor=\"middle\">{x}s</text>");
        b.AppendLine(c, $"<text x=\"12\" y=\"{T + 10}\" font-size=\"11\">{E(unit)}</text>");
        b.AppendLine(c, $"<line x1=\"{L}\" x2=\"{L}\" y1=\"{T}\" y2=\"{H - B}\" stroke=\"#999\"/><line x1=\"{L}\" x2=\"{W - R}\" y1=\"{H - B}\" y2=\"{H - B}\" stroke=\"#999\"/>");
        var legendX = L + 10;
        foreach (var (name, color, values) in series)
        {
            var points = string.Join(" ", values.Select((v, i) => $"{F(X(xs[i]), "F1")},{F(Y(v), "F1")}"));
            b.AppendLine(c, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"><title>{E(name)}</title></polyline>");
            b.AppendLine(c, $"<rect x=\"{legendX}\" y=\"{H - 14}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{legendX + 14}\" y=\"{H - 5}\" font-size=\"11\">{E(name)}</text>");
            legendX += 30 + (name.Length * 7);
        }
        b.Append("</svg>");
        return b.ToString();
    }

    private static string Label(double v) => v >= 10_000 ? (v / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k" : v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>1, 2 or 5 times a power of ten, at least v.</summary>
    private static double NiceCeiling(double v)
    {
        var p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1.0, 2, 5, 10 })
            if (m * p >= v) return m * p;
        return 10 * p;
    }
}
