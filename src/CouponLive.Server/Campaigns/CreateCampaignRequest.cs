namespace CouponLive.Campaigns;

// Request shapes are deliberately loose (strings, long?) so that the validator, not the
// JSON binder, names the field and the reason for every bad value.
public sealed record CreateCampaignRequest(
    string? Name,
    long? TotalQuantity,
    string? IssueStartsAt,
    string? IssueEndsAt,
    IReadOnlyList<WindowRequest?>? Windows,
    ScheduleRequest? Schedule,
    string? CouponValidUntil,
    BenefitRequest? Benefit);
