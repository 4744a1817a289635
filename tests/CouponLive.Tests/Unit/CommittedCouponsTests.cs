using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Tests.Unit;

/// <summary>
/// The coupons a process saw committed answer a winner's repeated click only for that campaign and user, and
/// stay within their bound by starting over.
/// </summary>
public sealed class CommittedCouponsTests
{
    private static CommittedCoupons Remembering(int capacity) =>
        new(Options.Create(new IssuanceOptions { CommittedCouponsRemembered = capacity }), Clock);

    private static readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock = new();

    private static IssuedCoupon Coupon(long campaign, string user, long sequence) =>
        new(campaign, user, sequence, $"code-{campaign}-{sequence}", DateTimeOffset.UnixEpoch, CouponSource.Window(0));

    [Fact]
    public void A_remembered_coupon_answers_only_its_holder_in_its_campaign()
    {
        var committed = Remembering(10);
        var coupon = Coupon(1, "u", 7);
        committed.Remember(coupon);

        Assert.Same(coupon, committed.Find(1, "u"));
        Assert.Null(committed.Find(2, "u"));  // another campaign
        Assert.Null(committed.Find(1, "U"));  // user ids are compared exactly
    }

    [Fact]
    public void At_the_bound_the_campaign_remembered_into_longest_ago_goes_first()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var committed = new CommittedCoupons(Options.Create(new IssuanceOptions { CommittedCouponsRemembered = 4 }), clock);
        committed.Remember(Coupon(1, "a1", 1));
        committed.Remember(Coupon(1, "a2", 2));
        clock.Advance(TimeSpan.FromSeconds(1));
        committed.Remember(Coupon(2, "b1", 1)); // the sale running now
        clock.Advance(TimeSpan.FromSeconds(1));
        committed.Remember(Coupon(2, "b2", 2));
        Assert.Equal(4, committed.Count);

        committed.Remember(Coupon(2, "b3", 3)); // full: campaign 1 (older) goes, the running sale keeps every winner
        Assert.Equal((3, 1), (committed.Count, committed.Campaigns));
        Assert.Null(committed.Find(1, "a1"));
        Assert.All(["b1", "b2", "b3"], u => Assert.NotNull(committed.Find(2, u)));
    }

    [Fact]
    public void A_campaign_alone_larger_than_the_bound_starts_over()
    {
        var committed = Remembering(3);
        for (var i = 1; i <= 4; i++) committed.Remember(Coupon(1, $"u{i}", i));
        Assert.Equal(1, committed.Count);
        Assert.NotNull(committed.Find(1, "u4"));
        Assert.Null(committed.Find(1, "u1"));
    }

    [Fact]
    public void A_forgotten_campaign_frees_its_room()
    {
        var committed = Remembering(10);
        committed.Remember(Coupon(1, "u", 1));
        committed.Remember(Coupon(2, "v", 1));
        committed.Forget(1);
        Assert.Equal((1, 1), (committed.Count, committed.Campaigns));
        Assert.Null(committed.Find(1, "u"));
    }

    [Fact]
    public void A_bound_of_zero_remembers_nothing()
    {
        var committed = Remembering(0);
        committed.Remember(Coupon(1, "u", 1));
        Assert.Null(committed.Find(1, "u"));
    }

    [Fact]
    public void The_same_holder_twice_counts_once()
    {
        var committed = Remembering(10);
        committed.Remember(Coupon(1, "u", 1));
        committed.Remember(Coupon(1, "u", 1));
        Assert.Equal(1, committed.Count);
    }
}
