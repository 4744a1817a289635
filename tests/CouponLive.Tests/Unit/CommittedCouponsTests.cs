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
        new(Options.Create(new IssuanceOptions { CommittedCouponsRemembered = capacity }));

    private static IssuedCoupon Coupon(long campaign, string user, long sequence) =>
        new(campaign, user, sequence, $"code-{campaign}-{sequence}", DateTimeOffset.UnixEpoch, 0);

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
    public void At_the_bound_it_starts_over_so_new_holders_are_still_remembered()
    {
        var committed = Remembering(3);
        for (var i = 1; i <= 3; i++) committed.Remember(Coupon(1, $"u{i}", i));
        Assert.Equal(3, committed.Count);
        Assert.NotNull(committed.Find(1, "u3"));

        committed.Remember(Coupon(2, "v", 1)); // full: the old campaign's holders go, the new one is kept
        Assert.Equal(1, committed.Count);
        Assert.Null(committed.Find(1, "u1"));
        Assert.NotNull(committed.Find(2, "v"));
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
