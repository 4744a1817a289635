using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace CouponLive.LoadTest;

/// <summary>
/// Counters, the latency histogram and a per-second timeline, written lock-free by every sender.
/// Time zero is the window's opening (stampede) or the first intended send (rate). Latencies are in µs,
/// in HdrHistogram's thread-safe histograms (1 µs to an hour; 3 significant digits for the run, 2 per
/// second of the timeline, which keeps each second's histogram small).
/// </summary>
public sealed class RunStats
{
    public static readonly int OutcomeCount = Enum.GetValues<Outcome>().Length;

    /// <summary>The longest latency recorded as such (an hour); a longer one counts as an hour.</summary>
    public const long MaxMicros = 3_600_000_000L;

    private readonly long[] _outcomes = new long[OutcomeCount];
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly long[] _secRequests, _secIssued, _secSoldOut, _secErrors;
    private readonly LongConcurrentHistogram?[] _secLatency;
    private readonly string?[] _codeByUser;
    private readonly int _quantity;
    private long _issued, _soldOutAt = -1, _firstSoldOutAnswerAt = -1, _lastCompletedAt;
    private int _conflictingAnswers;

    public LongConcurrentHistogram Latency { get; } = new(1, MaxMicros, 3);
    public long StartTimestamp { get; set; }

    public RunStats(int users, int quantity, int seconds)
    {
        _quantity = quantity;
        _codeByUser = new string?[users];
        _secRequests = new long[seconds];
        _secIssued = new long[seconds];
        _secSoldOut = new long[seconds];
        _secErrors = new long[seconds];
        _secLatency = new LongConcurrentHistogram?[seconds];
    }

    public long Completed => Latency.TotalCount;
    public long Count(Outcome o) => Volatile.Read(ref _outcomes[(int)o]);
    public long Errors => Count(Outcome.Unavailable) + Count(Outcome.RateLimited) + Count(Outcome.HttpError) + Count(Outcome.TransportError) + Count(Outcome.Timeout);
    public int ConflictingAnswers => Volatile.Read(ref _conflictingAnswers);
    public IReadOnlyDictionary<string, long> ErrorsByKind => _errors;
    public int Seconds => _secRequests.Length;

    public void Record(Outcome outcome, int user, string? code, long intendedTimestamp, long endTimestamp, string? errorKind)
    {
        var micros = Math.Clamp((endTimestamp - intendedTimestamp) * 1_000_000 / Stopwatch.Frequency, 1, MaxMicros);
        Latency.RecordValue(micros);
        Interlocked.Increment(ref _outcomes[(int)outcome]);
        var sec = (int)Math.Clamp((endTimestamp - StartTimestamp) / Stopwatch.Frequency, 0, _secRequests.Length - 1);
        Interlocked.Increment(ref _secRequests[sec]);
        SecondLatency(sec).RecordValue(micros);
        InterlockedMax(ref _lastCompletedAt, endTimestamp);

        switch (outcome)
        {
            case Outcome.Issued or Outcome.AlreadyIssued:
                if (outcome == Outcome.Issued)
                {
                    Interlocked.Increment(ref _secIssued[sec]);
                    if (Interlocked.Increment(ref _issued) == _quantity) Interlocked.CompareExchange(ref _soldOutAt, endTimestamp, -1);
                }
                // One user must always be told the same code (I2 as the crowd sees it).
                var seen = Interlocked.CompareExchange(ref _codeByUser[user], code, null);
                if (seen is not null && seen != code) Interlocked.Increment(ref _conflictingAnswers);
                break;
            case Outcome.SoldOut:
                Interlocked.Increment(ref _secSoldOut[sec]);
                Interlocked.CompareExchange(ref _firstSoldOutAnswerAt, endTimestamp, -1);
                break;
            case Outcome.Unavailable or Outcome.RateLimited or Outcome.HttpError or Outcome.TransportError or Outcome.Timeout:
                Interlocked.Increment(ref _secErrors[sec]);
                _errors.AddOrUpdate(errorKind ?? outcome.ToString(), 1, static (_, n) => n + 1);
                break;
        }
    }

    private LongConcurrentHistogram SecondLatency(int sec)
    {
        var h = Volatile.Read(ref _secLatency[sec]);
        if (h is not null) return h;
        Interlocked.CompareExchange(ref _secLatency[sec], new LongConcurrentHistogram(1, MaxMicros, 2), null);
        return _secLatency[sec]!;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>The code each user was told it holds (null: no success answer).</summary>
    public string? CodeOf(int user) => Volatile.Read(ref _codeByUser[user]);

    public double? SecondsSinceStart(long timestamp) => timestamp < 0 ? null : (double)(timestamp - StartTimestamp) / Stopwatch.Frequency;
    public double? SoldOutAfter => SecondsSinceStart(Volatile.Read(ref _soldOutAt));
    public double? FirstSoldOutAnswerAfter => SecondsSinceStart(Volatile.Read(ref _firstSoldOutAnswerAt));
    public double LastCompletedAfter => Math.Max(0, SecondsSinceStart(Volatile.Read(ref _lastCompletedAt)) ?? 0);

    public (long Requests, long Issued, long SoldOut, long Errors, HistogramBase? Latency) Second(int sec) =>
        (_secRequests[sec], _secIssued[sec], _secSoldOut[sec], _secErrors[sec], _secLatency[sec]);
}
