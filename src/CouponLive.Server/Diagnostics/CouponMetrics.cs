using System.Diagnostics.Metrics;

namespace CouponLive.Diagnostics;

/// <summary>
/// The service's instruments, on the meter "CouponLive". Each instrument carries at most one tag,
/// so the Prometheus exporter can key a series by that tag's value without allocating.
/// </summary>
public sealed class CouponMetrics
{
    public const string MeterName = "CouponLive";

    public CouponMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        IssueRequests = meter.CreateCounter<long>("couponlive.issue.requests", "{request}", "Issue requests by outcome");
        IssueDuration = meter.CreateHistogram<double>("couponlive.issue.duration", "s", "Time to answer an issue request, by outcome");
        AuthFailures = meter.CreateCounter<long>("couponlive.auth.failures", "{request}", "Requests refused for a missing, invalid or expired token, by reason");
        GateBatchSize = meter.CreateHistogram<int>("couponlive.gate.batch.size", "{request}", "Requests decided by one admission script call");
        GateCallDuration = meter.CreateHistogram<double>("couponlive.gate.call.duration", "s", "Duration of one admission script call");
        WriterBatchSize = meter.CreateHistogram<int>("couponlive.writer.batch.size", "{coupon}", "Coupons committed by one group commit");
        WriterCommitDuration = meter.CreateHistogram<double>("couponlive.writer.commit.duration", "s", "Duration of one group commit");
        ReconcilerActions = meter.CreateCounter<long>("couponlive.reconciler.actions", "{entry}", "Outbox entries handled by the reconciler, by action");
        GateEvictions = meter.CreateCounter<long>("couponlive.gate.evictions", "{campaign}", "Campaign gate states dropped to be rebuilt from the store, by reason");
        Errors = meter.CreateCounter<long>("couponlive.errors", "{error}", "Failed calls to Redis or the store, by component");
    }

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

    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
