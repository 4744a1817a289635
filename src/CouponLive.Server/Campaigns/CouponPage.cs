namespace CouponLive.Campaigns;

/// <summary>Issued coupons in sequence order; <see cref="Next"/> (the last sequence) asks for the following page, null at the end.</summary>
public sealed record CouponPage(IReadOnlyList<CouponItem> Items, long? Next);
