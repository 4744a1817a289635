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

public sealed record WindowRequest(string? StartsAt, string? EndsAt, long? Quota);

public sealed record ScheduleRequest(
    string? TimeZone,
    string? FromDate,
    string? ToDate,
    IReadOnlyList<string?>? DailyStartTimes,
    long? DurationSeconds,
    long? QuotaPerWindow);

public sealed record BenefitRequest(string? Type, decimal? Value);

/// <summary>An issuance window, half-open: [StartsAt, EndsAt).</summary>
public sealed record CampaignWindow(DateTimeOffset StartsAt, DateTimeOffset EndsAt, int? Quota);

public sealed record Benefit(string Type, decimal Value);

/// <summary>A validated campaign, ready to store. Windows are sorted and non-overlapping.</summary>
public sealed record CampaignDefinition(
    string Name,
    int TotalQuantity,
    IReadOnlyList<CampaignWindow> Windows,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit);
