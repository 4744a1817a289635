using BenchmarkDotNet.Attributes;
using HdrHistogram;

namespace CouponLive.Benchmarks;

/// <summary>
/// The load tool records one latency per request from many threads into HdrHistogram's thread-safe
/// histogram (3 significant digits, up to an hour in µs), single-threaded and with every core at once.
/// Measured against the hand-written histogram it replaced: docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class HistogramBenchmarks
{
    private const int Values = 1_000_000;
    private readonly long[] _latencies = new long[Values];
    private LongConcurrentHistogram _hdr = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Values; i++) _latencies[i] = (long)Math.Exp(random.NextDouble() * 12); // 1 µs .. ~160 ms
        _hdr = new LongConcurrentHistogram(1, 3_600_000_000L, 3);
    }

    [Benchmark(OperationsPerInvoke = Values)]
    public void Record()
    {
        foreach (var v in _latencies) _hdr.RecordValue(v);
    }

    [Benchmark(OperationsPerInvoke = Values)]
    public void RecordAllCores() => Parallel.For(0, Environment.ProcessorCount, _ =>
    {
        foreach (var v in _latencies.AsSpan(0, Values / Environment.ProcessorCount)) _hdr.RecordValue(v);
    });
}
