using System.Threading.RateLimiting;
using CouponLive.Limits;
using Microsoft.Extensions.Time.Testing;

namespace CouponLive.Tests.Unit;

/// <summary>The per-user issue limit: a burst, then a steady rate, per user, and nothing kept for users at rest.</summary>
public sealed class UserRateLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_burst_passes_then_requests_are_refused_with_the_time_to_the_next_permit()
    {
        using var limiter = new UserRateLimiter(burst: 20, perSecond: 10, _time);

        for (var i = 0; i < 20; i++) Assert.True(limiter.TryAcquire("u", out _), $"request {i + 1} of the burst");
        Assert.False(limiter.TryAcquire("u", out var retryAfter));
        Assert.InRange(retryAfter.TotalMilliseconds, 99, 101); // one permit every 100 ms

        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(limiter.TryAcquire("u", out _));
        Assert.False(limiter.TryAcquire("u", out _));
    }

    [Fact]
    public void After_the_burst_the_steady_rate_is_what_passes()
    {
        using var limiter = new UserRateLimiter(burst: 5, perSecond: 10, _time);
        var passed = 0;
        // 100 requests a second for 10 seconds, as a script would send.
        for (var tick = 0; tick < 1_000; tick++)
        {
            if (limiter.TryAcquire("script", out _)) passed++;
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }
        Assert.InRange(passed, 100, 106); // 10/s for 10 s, plus the burst
    }

    [Fact]
    public void Users_have_buckets_of_their_own()
    {
        using var limiter = new UserRateLimiter(burst: 2, perSecond: 1, _time);
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.False(limiter.TryAcquire("a", out _));
        Assert.True(limiter.TryAcquire("b", out _));
    }

    [Fact]
    public void A_double_click_is_never_refused_even_at_the_tightest_setting_that_allows_two()
    {
        using var limiter = new UserRateLimiter(burst: 2, perSecond: 0.01, _time);
        Assert.True(limiter.TryAcquire("person", out _));
        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.True(limiter.TryAcquire("person", out _));
    }

    [Fact]
    public void Concurrent_requests_of_one_user_get_exactly_the_burst()
    {
        using var limiter = new UserRateLimiter(burst: 20, perSecond: 10, _time); // the clock stands still
        var passed = 0;
        Parallel.For(0, 2_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            if (limiter.TryAcquire("u", out _)) Interlocked.Increment(ref passed);
        });
        Assert.Equal(20, passed);
    }

    [Fact]
    public void Users_whose_bucket_refilled_are_forgotten()
    {
        using var limiter = new UserRateLimiter(burst: 20, perSecond: 10, _time);
        for (var i = 0; i < 10_000; i++) limiter.TryAcquire("user-" + i, out _);
        Assert.Equal(10_000, limiter.Count);

        _time.Advance(TimeSpan.FromSeconds(1)); // one permit refills in 0.1 s; the sweep runs every second
        Assert.Equal(0, limiter.Count);
    }

    [Fact]
    public void It_answers_as_a_System_Threading_RateLimiting_limiter()
    {
        using PartitionedRateLimiter<string> limiter = new UserRateLimiter(burst: 1, perSecond: 2, _time);
        using (var first = limiter.AttemptAcquire("u")) Assert.True(first.IsAcquired);
        using var second = limiter.AttemptAcquire("u");
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(500), retryAfter);
        Assert.Equal(0, limiter.GetStatistics("u")!.CurrentAvailablePermits);
    }

    [Fact]
    public void HasPermit_looks_without_taking_and_says_when_the_next_whole_permit_comes()
    {
        using var limiter = new UserRateLimiter(burst: 2, perSecond: 4, _time); // a permit every 250 ms
        Assert.True(limiter.HasPermit("a", out var wait));
        Assert.Equal(TimeSpan.Zero, wait);
        Assert.True(limiter.HasPermit("a", out _)); // looking took nothing
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.HasPermit("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));

        Assert.False(limiter.HasPermit("a", out wait));
        Assert.Equal(TimeSpan.FromMilliseconds(250), wait);
        _time.Advance(TimeSpan.FromMilliseconds(100)); // a fraction of a permit is not one
        Assert.False(limiter.HasPermit("a", out wait));
        Assert.Equal(TimeSpan.FromMilliseconds(150), wait);
        Assert.False(limiter.TryAcquire("a", out var refused));
        Assert.Equal(wait, refused);

        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.True(limiter.HasPermit("a", out _));
        Assert.True(limiter.HasPermit("b", out _)); // another key is untouched
    }
}
