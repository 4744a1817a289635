using Polly;
using Polly.CircuitBreaker;

namespace CouponLive.Issuance;

/// <summary>
/// Fail fast while a dependency (Redis, the store) is down: Polly's circuit breaker over its calls. Once
/// failures pass the ratio, the circuit opens and issue requests answer 503 with Retry-After at once
/// (<see cref="IsRefusing"/>) instead of each waiting out a timeout; after the break one call probes the
/// dependency (half-open), and its success closes the circuit.
/// </summary>
public sealed partial class DependencyBreaker : IDisposable
{
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _refusingUntil;
    private CancellationTokenSource _broken = new();

    /// <summary>A breaker counting the exceptions <paramref name="isFailure"/> accepts against the dependency (the rest pass through uncounted).</summary>
    /// <param name="name">The dependency's name, in logs and metrics.</param>
    /// <param name="options">When it opens and for how long.</param>
    /// <param name="time">The clock of its break.</param>
    /// <param name="logger">Where it says it opened and closed.</param>
    /// <param name="isFailure">Which exceptions count against the dependency.</param>
    public DependencyBreaker(string name, BreakerOptions options, TimeProvider time, ILogger logger, Func<Exception, bool> isFailure)
    {
        Name = name;
        _time = time;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            StateProvider = _state,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && isFailure(ex)),
            OnOpened = args =>
            {
                RefuseFor(args.BreakDuration);
                _ = _broken.CancelAsync(); // waiters resume on the thread pool, not inside the breaker's call
                LogOpened(Name, args.BreakDuration.TotalMilliseconds, args.Outcome.Exception?.Message ?? "");
                return ValueTask.CompletedTask;
            },
            OnHalfOpened = _ =>
            {
                // Requests wait for the probe's verdict (its callers are still served) rather than pile up behind it.
                Volatile.Write(ref _broken, new CancellationTokenSource());
                RefuseFor(options.BreakDuration);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                if (_broken.IsCancellationRequested) Volatile.Write(ref _broken, new CancellationTokenSource());
                Volatile.Write(ref _refusingUntil, 0);
                LogClosed(Name);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    public string Name { get; }

    public CircuitState State => _state.CircuitState;

    /// <summary>True while the circuit is open and within its break: answer 503 without calling.</summary>
    public bool IsRefusing => _time.GetTimestamp() < Volatile.Read(ref _refusingUntil);

    /// <summary>Cancelled when the circuit opens, so whoever waits on the dependency gives up at once.</summary>
    public CancellationToken Broken => Volatile.Read(ref _broken).Token;

    /// <summary>
    /// Runs a call through the breaker. Its exception, or a <see cref="BrokenCircuitException"/> when the
    /// circuit refused it, comes back in the outcome, never thrown (refusals are the common case of an outage).
    /// </summary>
    public async ValueTask<Outcome<T>> ExecuteAsync<T, TState>(Func<TState, ValueTask<T>> call, TState state)
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            return await _pipeline.ExecuteOutcomeAsync(static async (_, s) =>
            {
                try
                {
                    return Outcome.FromResult(await s.call(s.state));
                }
                catch (Exception ex)
                {
                    return Outcome.FromException<T>(ex);
                }
            }, context, (call, state));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public void Dispose() => _broken.Dispose();

    private void RefuseFor(TimeSpan duration) =>
        Volatile.Write(ref _refusingUntil, _time.GetTimestamp() + (long)(duration.TotalSeconds * _time.TimestampFrequency));

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Dependency} is failing ({Reason}): issue requests answer 503 at once; probing again in {BreakMs} ms")]
    private partial void LogOpened(string dependency, double breakMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Dependency} answers again: issuing resumed")]
    private partial void LogClosed(string dependency);
}
