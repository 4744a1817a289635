namespace CouponLive.Campaigns;

/// <summary>The PATCH body's shape, for the OpenAPI document (the endpoint reads it as a merge patch, <see cref="CampaignPatchReader"/>).</summary>
public sealed record UpdateCampaignRequest(
    string? Name,
    long? TotalQuantity,
    IReadOnlyList<WindowRequest?>? Windows,
    string? CouponValidUntil,
    BenefitRequest? Benefit);
