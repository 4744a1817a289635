using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace CouponLive.Diagnostics;

/// <summary>
/// The smallest correct Prometheus text-format (0.0.4) exporter for this service's meter: a
/// MeterListener aggregates counters (sums) and histograms (fixed buckets) per tag value, and
/// <see cref="Write"/> renders them. Written by hand because neither the OpenTelemetry Prometheus
/// exporter nor prometheus-net restores here (docs/adr/0006-metrics-exporter.md).
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();

    public PrometheusExporter(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this service's meter from this container (tests run several servers in one process).
            if (instrument.Meter.Name != CouponMetrics.MeterName || !ReferenceEquals(instrument.Meter.Scope, meterFactory)) return;
            _families[instrument] = new Family(instrument, instrument is Histogram<double> or Histogram<int>
                ? instrument.Unit == "s" ? SecondsBuckets : CountBuckets
                : null);
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_families.TryGetValue(instrument, out var family)) return;
        var (tagName, tagValue) = tags.Length == 0 ? ("", "") : (tags[0].Key, tags[0].Value as string ?? "");
        family.Series(tagName, tagValue).Add(value);
    }

    /// <summary>Writes every family in the text exposition format.</summary>
    public void Write(StringBuilder text)
    {
        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal)) family.Write(text);
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Family(Instrument instrument, double[]? buckets)
    {
        private readonly ConcurrentDictionary<(string Tag, string Value), Series> _series = new();

        public string Name { get; } = PrometheusName(instrument, buckets is null);

        public Series Series(string tag, string value) =>
            _series.TryGetValue((tag, value), out var s) ? s : _series.GetOrAdd((tag, value), _ => new Series(buckets));

        public void Write(StringBuilder text)
        {
            if (_series.IsEmpty) return;
            text.Append("# HELP ").Append(Name).Append(' ').Append(EscapeHelp(instrument.Description ?? Name)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(buckets is null ? " counter\n" : " histogram\n");
            foreach (var ((tag, value), series) in _series.OrderBy(s => s.Key.Value, StringComparer.Ordinal))
            {
                var label = tag.Length == 0 ? "" : $"{tag}=\"{EscapeLabel(value)}\"";
                if (buckets is null)
                {
                    Sample(text, Name, label, series.Sum);
                    continue;
                }
                long cumulative = 0;
                for (var i = 0; i < buckets.Length; i++)
                {
                    cumulative += series.BucketCount(i);
                    Sample(text, Name + "_bucket", Join(label, $"le=\"{Format(buckets[i])}\""), cumulative);
                }
                Sample(text, Name + "_bucket", Join(label, "le=\"+Inf\""), series.Count);
                Sample(text, Name + "_sum", label, series.Sum);
                Sample(text, Name + "_count", label, series.Count);
            }
        }

        private static string Join(string a, string b) => a.Length == 0 ? b : a + "," + b;

        private static void Sample(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0) text.Append('{').Append(labels).Append('}');
            text.Append(' ').Append(Format(value)).Append('\n');
        }
    }

    /// <summary>A counter's sum, or a histogram's buckets, sum and count; updated without locks.</summary>
    private sealed class Series(double[]? bounds)
    {
        private readonly long[] _buckets = new long[bounds?.Length + 1 ?? 0];
        private long _count;
        private double _sum;

        public double Sum => Volatile.Read(ref _sum);
        public long Count => Interlocked.Read(ref _count);
        public long BucketCount(int i) => Interlocked.Read(ref _buckets[i]);

        public void Add(double value)
        {
            if (bounds is not null)
            {
                var i = 0;
                while (i < bounds.Length && value > bounds[i]) i++;
                Interlocked.Increment(ref _buckets[i]);
                Interlocked.Increment(ref _count);
            }
            double seen, next;
            do
            {
                seen = Volatile.Read(ref _sum);
                next = seen + value;
            }
            while (Interlocked.CompareExchange(ref _sum, next, seen) != seen);
        }
    }

    /// <summary>couponlive.issue.duration (s) -> couponlive_issue_duration_seconds; counters end in _total.</summary>
    private static string PrometheusName(Instrument instrument, bool isCounter)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s") name += "_seconds";
        return isCounter ? name + "_total" : name;
    }

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string EscapeLabel(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    private static string EscapeHelp(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
