using System.Globalization;
using System.Text;

namespace CouponLive.LoadTest;

/// <summary>Everything a run measured; serialized as report.json and drawn as report.html.</summary>
public sealed record LoadReport(
    string Scenario,
    IReadOnlyList<string> Targets,
    long CampaignId,
    int Quantity,
    int Users,
    int Connections,
    double? RatePerSecond,
    long PlannedRequests,
    DateTimeOffset StartedAt,
    double ElapsedSeconds,
    string StoppedBy,
    long Requests,
    double Throughput,
    double ClientCpuMicrosPerRequest,
    IReadOnlyDictionary<string, long> Outcomes,
    long Errors,
    IReadOnlyDictionary<string, long> ErrorsByKind,
    LatencySummary Latency,
    double? SoldOutAfterSeconds,
    double? FirstSoldOutAnswerAfterSeconds,
    IReadOnlyList<TimelineSample> Timeline,
    InvariantResult Invariants,
    bool Passed)
{
    public static LoadReport Build(LoadOptions o, RunStats s, long campaignId, int quantity, int users, long planned,
        DateTimeOffset startedAt, double elapsed, string stoppedBy, TimeSpan clientCpu, InvariantResult check)
    {
        var outcomes = Enum.GetValues<Outcome>().ToDictionary(x => JsonName(x), s.Count);
        var timeline = new List<TimelineSample>();
        long issuedTotal = 0;
        var last = (int)Math.Min(s.Seconds - 1, Math.Ceiling(elapsed));
        for (var sec = 0; sec <= last; sec++)
        {
            var (requests, issued, soldOut, errors, latency) = s.Second(sec);
            issuedTotal += issued;
            var l = latency is null ? null : LatencySummary.Of(latency);
            timeline.Add(new TimelineSample(sec, requests, issued, issuedTotal, soldOut, errors, l?.P50Ms ?? 0, l?.P90Ms ?? 0, l?.P99Ms ?? 0, l?.MaxMs ?? 0));
        }
        var requestsDone = s.Completed;
        return new LoadReport(
            o.Scenario.ToString().ToLowerInvariant(),
            o.Targets.Select(t => t.ToString()).ToList(),
            campaignId, quantity, users, o.Connections,
            o.Scenario == LoadTest.Scenario.Rate ? o.Rate : null,
            planned, startedAt, Math.Round(elapsed, 3), stoppedBy,
            requestsDone,
            elapsed > 0 ? Math.Round(requestsDone / elapsed, 1) : 0,
            requestsDone > 0 ? Math.Round(clientCpu.TotalMicroseconds / requestsDone, 1) : 0,
            outcomes, s.Errors, new SortedDictionary<string, long>(s.ErrorsByKind.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.Ordinal),
            LatencySummary.Of(s.Latency),
            Round(s.SoldOutAfter), Round(s.FirstSoldOutAnswerAfter),
            timeline, check, check.Passed);
    }

    private static double? Round(double? v) => v is null ? null : Math.Round(v.Value, 3);

    public static string JsonName(Outcome o) => o switch
    {
        Outcome.Issued => "issued",
        Outcome.AlreadyIssued => "alreadyIssued",
        Outcome.SoldOut => "soldOut",
        Outcome.WindowSoldOut => "windowSoldOut",
        Outcome.NotOpen => "notOpen",
        Outcome.Ended => "ended",
        Outcome.Unavailable => "unavailable",
        Outcome.RateLimited => "rateLimited",
        Outcome.HttpError => "httpError",
        Outcome.TransportError => "transportError",
        Outcome.Timeout => "timeout",
        _ => "cutOff",
    };

    /// <summary>The end-of-run text report.</summary>
    public string Summary()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine(c, $"== {Scenario} against {string.Join(", ", Targets)}: campaign {CampaignId}, {Quantity:N0} coupons, {Users:N0} users");
        b.AppendLine(c, $"requests     {Requests:N0} in {ElapsedSeconds:F2} s = {Throughput:N0} req/s (stopped by: {StoppedBy}); load tool CPU {ClientCpuMicrosPerRequest:F1} µs/request");
        b.AppendLine(c, $"outcomes     {string.Join(", ", Outcomes.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value:N0}"))}");
        b.AppendLine(c, $"latency ms   p50 {Latency.P50Ms:F2}  p90 {Latency.P90Ms:F2}  p99 {Latency.P99Ms:F2}  p99.9 {Latency.P999Ms:F2}  max {Latency.MaxMs:F2}");
        var soldOut = SoldOutAfterSeconds is { } t ? string.Create(c, $"{t:F3} s after the start") : "not observed";
        var firstAnswer = FirstSoldOutAnswerAfterSeconds is { } f ? string.Create(c, $" (first sold-out answer at {f:F3} s)") : "";
        b.AppendLine(c, $"sold out     {soldOut}{firstAnswer}");
        b.AppendLine(c, $"errors       {(Errors == 0 ? "none" : string.Join(", ", ErrorsByKind.Select(kv => $"{kv.Key}: {kv.Value:N0}")))}");
        var inv = Invariants;
        if (!inv.Checked) b.AppendLine(c, $"invariants   {inv.Source}");
        else
        {
            b.AppendLine(c, $"invariants   {inv.Source}: {inv.Store}");
            b.AppendLine(c, $"answers      {inv.AnsweredUsers:N0} users told they hold a coupon, {inv.MatchedAnswers:N0} match the store, {inv.MismatchedAnswers:N0} do not; {inv.RowsWithoutAnswer:N0} stored rows without an answer here");
            if (inv.Events is { } events) b.AppendLine(c, $"events       {events}");
            if (inv.Queue is { } queue) b.AppendLine(c, $"             {queue}");
        }
        b.Append(Passed ? "RESULT       PASS" : "RESULT       FAIL: " + string.Join("; ", inv.Violations));
        return b.ToString();
    }
}
