namespace CouponLive.Campaigns;

/// <summary>
/// A change of a campaign's definition as a JSON merge patch (RFC 7396) gives it: absent fields stay as they
/// are; <c>couponValidUntil</c> and <c>benefit</c> given as null are removed. <c>windows</c> is the whole new
/// list: windows that have started come back unchanged (the open one may end later or sooner, not in the past).
/// </summary>
public sealed record CampaignPatch(
    Patched<string> Name,
    Patched<long?> TotalQuantity,
    Patched<IReadOnlyList<WindowRequest?>> Windows,
    Patched<string> CouponValidUntil,
    Patched<BenefitRequest> Benefit);
