using System.Diagnostics.Metrics;

namespace CouponLive.Diagnostics;

/// <summary>
/// The service's instruments, on the meter "CouponLive". Histograms declare their bucket boundaries
/// (the SDK's defaults suit milliseconds, these record seconds or request counts).
/// </summary>
public sealed class CouponMetrics
{
    public const string MeterName = "CouponLive";

    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private static readonly InstrumentAdvice<int> Counts = new() { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] };

    public CouponMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        IssueRequests = meter.CreateCounter<long>("couponlive.issue.requests", "{request}", "Issue requests by outcome");
        IssueDuration = meter.CreateHistogram("couponlive.issue.duration", "s", "Time to answer an issue request, by outcome", advice: Seconds);
        AuthFailures = meter.CreateCounter<long>("couponlive.auth.failures", "{request}", "Requests refused for a missing, invalid or expired token, by reason");
        GateBatchSize = meter.CreateHistogram("couponlive.gate.batch.size", "{request}", "Requests decided by one admission script call", advice: Counts);
        GateCallDuration = meter.CreateHistogram("couponlive.gate.call.duration", "s", "Duration of one admission script call", advice: Seconds);
        WriterBatchSize = meter.CreateHistogram("couponlive.writer.batch.size", "{coupon}", "Coupons committed by one group commit", advice: Counts);
        WriterCommitDuration = meter.CreateHistogram("couponlive.writer.commit.duration", "s", "Duration of one group commit", advice: Seconds);
        ReconcilerActions = meter.CreateCounter<long>("couponlive.reconciler.actions", "{entry}", "Outbox entries handled by the reconciler, by action");
        GateEvictions = meter.CreateCounter<long>("couponlive.gate.evictions", "{campaign}", "Campaign gate states dropped to be rebuilt from the store, by reason");
        Errors = meter.CreateCounter<long>("couponlive.errors", "{error}", "Failed calls to Redis or the store, by component");
        RateLimited = meter.CreateCounter<long>("couponlive.rate_limited", "{request}", "Requests refused by a flood limit, by limit");
        Shed = meter.CreateCounter<long>("couponlive.issue.shed", "{request}", "Issue requests answered 503 at once instead of queued, by reason");
        Redemptions = meter.CreateCounter<long>("couponlive.redemptions", "{request}", "Redeem, cancel-redemption and revoke requests, by action and outcome");
        WriterParked = meter.CreateCounter<long>("couponlive.writer.parked", "{coupon}",
            "Admitted issues the store failed to commit for a reason of their own, set aside so other commits go on (each answered 503; its gate is rebuilt)");
        _meter = meter;
    }

    private readonly Meter _meter;

    public Counter<long> IssueRequests { get; }
    public Histogram<double> IssueDuration { get; }
    public Counter<long> AuthFailures { get; }
    public Histogram<int> GateBatchSize { get; }
    public Histogram<double> GateCallDuration { get; }
    public Histogram<int> WriterBatchSize { get; }
    public Histogram<double> WriterCommitDuration { get; }
    public Counter<long> ReconcilerActions { get; }
    public Counter<long> GateEvictions { get; }
    public Counter<long> Errors { get; }
    public Counter<long> RateLimited { get; }
    public Counter<long> Shed { get; }
    public Counter<long> Redemptions { get; }
    public Counter<long> WriterParked { get; }

    /// <summary>A gauge read at each collection (queue depths, circuit states), registered by the part that owns the value.</summary>
    public void Observe(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> read) =>
        _meter.CreateObservableGauge(name, read, unit, description);

    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
