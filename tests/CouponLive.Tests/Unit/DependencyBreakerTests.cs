using CouponLive.Issuance;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace CouponLive.Tests.Unit;

/// <summary>The circuit breaker of a dependency: opens on failures, refuses at once, probes after its break, closes on success.</summary>
public sealed class DependencyBreakerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly BreakerOptions _options = new() { FailureRatio = 0.5, MinimumThroughput = 3, SamplingDuration = TimeSpan.FromSeconds(1), BreakDuration = TimeSpan.FromMilliseconds(500) };

    private static ValueTask<int> Fail(int _) => throw new InvalidOperationException("store down");

    private static ValueTask<int> Succeed(int value) => ValueTask.FromResult(value);

    [Fact]
    public async Task Failures_open_it_then_it_refuses_without_calling_and_cancels_waiters()
    {
        using var breaker = new DependencyBreaker("store", _options, _time, NullLogger.Instance, _ => true);
        var waiter = breaker.Broken;
        for (var i = 0; i < 2; i++) await breaker.ExecuteAsync(Fail, 0);
        Assert.False(breaker.IsRefusing); // two calls are below the minimum throughput
        Assert.False(waiter.IsCancellationRequested);

        var third = await breaker.ExecuteAsync(Fail, 0);
        Assert.IsType<InvalidOperationException>(third.Exception);
        Assert.True(breaker.IsRefusing);
        Assert.Equal(CircuitState.Open, breaker.State);
        await WaitUntilAsync(() => waiter.IsCancellationRequested);

        var calls = 0;
        var refused = await breaker.ExecuteAsync(_ => { calls++; return ValueTask.FromResult(1); }, 0);
        Assert.IsType<BrokenCircuitException>(refused.Exception);
        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task Failures_it_is_told_are_not_the_dependencys_never_open_it()
    {
        // The store's breaker: a commit the rows made fail (a trigger's error) is the writer's to isolate.
        using var breaker = new DependencyBreaker("store", _options, _time, NullLogger.Instance, ex => ex is not ArgumentException);
        for (var i = 0; i < 10; i++)
        {
            var outcome = await breaker.ExecuteAsync<int, int>(_ => throw new ArgumentException("the row's fault"), 0);
            Assert.IsType<ArgumentException>(outcome.Exception); // still reported to the caller
        }
        Assert.False(breaker.IsRefusing);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task After_the_break_one_probe_goes_through_and_its_success_closes_it()
    {
        using var breaker = new DependencyBreaker("redis", _options, _time, NullLogger.Instance, _ => true);
        for (var i = 0; i < 3; i++) await breaker.ExecuteAsync(Fail, 0);
        Assert.True(breaker.IsRefusing);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.False(breaker.IsRefusing); // the break is over: the next call probes
        var probe = await breaker.ExecuteAsync(Succeed, 7);
        Assert.Equal(7, probe.Result);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.False(breaker.IsRefusing);
        Assert.False(breaker.Broken.IsCancellationRequested); // new waiters wait again
    }

    [Fact]
    public async Task A_failed_probe_opens_it_for_another_break()
    {
        using var breaker = new DependencyBreaker("store", _options, _time, NullLogger.Instance, _ => true);
        for (var i = 0; i < 3; i++) await breaker.ExecuteAsync(Fail, 0);
        _time.Advance(TimeSpan.FromMilliseconds(500));

        var probe = await breaker.ExecuteAsync(Fail, 0);
        Assert.IsType<InvalidOperationException>(probe.Exception);
        Assert.True(breaker.IsRefusing);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task A_single_failure_among_successes_keeps_it_closed()
    {
        using var breaker = new DependencyBreaker("store", _options, _time, NullLogger.Instance, _ => true);
        for (var i = 0; i < 10; i++) await breaker.ExecuteAsync(Succeed, i);
        await breaker.ExecuteAsync(Fail, 0);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.False(breaker.IsRefusing);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        // Bounded generously: the continuation runs on the thread pool, which a busy machine serves late.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(condition());
    }
}
