namespace CouponLive.Campaigns;

public sealed record ScheduleRequest(
    string? TimeZone,
    string? FromDate,
    string? ToDate,
    IReadOnlyList<string?>? DailyStartTimes,
    long? DurationSeconds,
    long? QuotaPerWindow);
