using CouponLive.Issuance.Redis;
using Microsoft.Extensions.Time.Testing;

namespace CouponLive.Tests.Unit;

/// <summary>
/// The refusals a process remembers hold only for the user, campaign and campaign version they were told under,
/// only for the period, go with a campaign's gate, and stay bounded by two periods' worth.
/// </summary>
public sealed class SoldOutMemoryTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_refusal_holds_for_its_user_campaign_and_version_within_the_period()
    {
        var memory = new SoldOutMemory(TimeSpan.FromSeconds(1), _time);
        memory.Remember(1, 3, "u");

        Assert.True(memory.WasToldSoldOut(1, 3, "u"));
        Assert.False(memory.WasToldSoldOut(1, 4, "u")); // the campaign changed since
        Assert.False(memory.WasToldSoldOut(2, 3, "u"));
        Assert.False(memory.WasToldSoldOut(1, 3, "v"));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(memory.WasToldSoldOut(1, 3, "u"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(memory.WasToldSoldOut(1, 3, "u"));
    }

    [Fact]
    public void Forgetting_a_campaign_drops_only_its_refusals()
    {
        var memory = new SoldOutMemory(TimeSpan.FromSeconds(1), _time);
        memory.Remember(1, 1, "u");
        memory.Remember(2, 1, "u");
        memory.Forget(1);
        Assert.False(memory.WasToldSoldOut(1, 1, "u"));
        Assert.True(memory.WasToldSoldOut(2, 1, "u"));
    }

    [Fact]
    public void Only_the_last_two_periods_are_kept()
    {
        var memory = new SoldOutMemory(TimeSpan.FromSeconds(1), _time);
        for (var period = 0; period < 5; period++)
        {
            for (var u = 0; u < 100; u++) memory.Remember(1, 1, $"p{period}-u{u}");
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        memory.Remember(1, 1, "now");
        Assert.InRange(memory.Count, 101, 200);
    }

    [Fact]
    public void A_period_of_zero_remembers_nothing()
    {
        var memory = new SoldOutMemory(TimeSpan.Zero, _time);
        memory.Remember(1, 1, "u");
        Assert.False(memory.WasToldSoldOut(1, 1, "u"));
        Assert.Equal(0, memory.Count);
    }
}
