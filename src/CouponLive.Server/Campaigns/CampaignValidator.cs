using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace CouponLive.Campaigns;

/// <summary>
/// Validates a "create campaign" request and turns it into a <see cref="CampaignDefinition"/>:
/// one issuance window, an explicit list of windows, or a recurring schedule expanded into windows.
/// Never throws: every bad input comes back as the first <see cref="ServiceFailure"/> found.
/// </summary>
public static partial class CampaignValidator
{
    public const int MaxQuantity = 10_000_000;
    public const int MaxWindows = 1_000;

    private const int MaxNameRunes = 100;
    private const int MaxStartTimes = 100;
    private const int MaxScheduleDays = 366;
    private const int MaxDurationSeconds = 86_400;
    private const decimal MaxFixedAmount = 1_000_000_000m;
    private const decimal MaxPercent = 100m;

    // Schedule dates are local dates; keeping them one year clear of DateTime's end means no
    // time-zone shift or duration can overflow while expanding.
    private static readonly DateOnly MinScheduleDate = new(2000, 1, 1);
    private static readonly DateOnly MaxScheduleDate = new(9998, 12, 31);

    // The offset is checked separately (see TryParseTimestamp); fractions are 1..7 digits, never "10:00:00.".
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd'T'HH:mm:ss.fzzz",
        "yyyy-MM-dd'T'HH:mm:ss.ffzzz",
        "yyyy-MM-dd'T'HH:mm:ss.fffzzz",
        "yyyy-MM-dd'T'HH:mm:ss.ffffzzz",
        "yyyy-MM-dd'T'HH:mm:ss.fffffzzz",
        "yyyy-MM-dd'T'HH:mm:ss.ffffffzzz",
        "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz",
    ];

    private static readonly string[] TimeOfDayFormats = ["HH:mm", "HH:mm:ss"];

    /// <summary>
    /// Returns the definition, or the FIRST failure found (checked in field order: name,
    /// totalQuantity, time spec, couponValidUntil, benefit). Windows come back sorted, in UTC. requireFutureEnd
    /// false: a change that keeps an ended campaign's windows (e.g. fixing its name) is not refused for them.
    /// </summary>
    public static bool TryValidate(
        CreateCampaignRequest? request,
        DateTimeOffset now,
        [NotNullWhen(true)] out CampaignDefinition? definition,
        [NotNullWhen(false)] out ServiceFailure? failure,
        bool requireFutureEnd = true)
    {
        failure = Validate(request, now, requireFutureEnd, out definition);
        return failure is null;
    }

    private static ServiceFailure? Validate(CreateCampaignRequest? request, DateTimeOffset now, bool requireFutureEnd, out CampaignDefinition? definition)
    {
        definition = null;
        if (request is null)
            return Fail("request.body_required", "", "A request body is required.");

        if (CheckName(request.Name, out var name) is { } nameFailure)
            return nameFailure;

        if (request.TotalQuantity is not { } quantity || quantity < 1 || quantity > MaxQuantity)
            return Fail("campaign.invalid_quantity", "totalQuantity", $"totalQuantity is required and must be 1..{MaxQuantity}.");
        var totalQuantity = (int)quantity;

        if (CheckTimeSpec(request, totalQuantity, out var windows, out var endedField) is { } timeFailure)
            return timeFailure;

        // Windows are sorted and non-overlapping, so the last one ends last.
        var lastEnd = windows[^1].EndsAt;
        if (requireFutureEnd && lastEnd <= now)
            return Fail("campaign.already_ended", endedField, "The campaign's last issuance window has already ended.");

        DateTimeOffset? couponValidUntil = null;
        if (request.CouponValidUntil is not null)
        {
            if (!TryParseTimestamp(request.CouponValidUntil, out var validUntil))
                return InvalidTimestamp("couponValidUntil");
            if (validUntil <= lastEnd)
                return Fail("campaign.invalid_valid_until", "couponValidUntil", "couponValidUntil must be after the end of the last issuance window.");
            couponValidUntil = validUntil;
        }

        if (CheckBenefit(request.Benefit, out var benefit) is { } benefitFailure)
            return benefitFailure;

        definition = new CampaignDefinition(name, totalQuantity, windows, couponValidUntil, benefit);
        return null;
    }

    // ---- name ----

    /// <summary>The name as it is stored (trimmed, NFC), for lookups by name; false when no campaign could have it.</summary>
    public static bool TryNormalizeName(string? raw, out string name) => CheckName(raw, out name) is null;

    private static ServiceFailure? CheckName(string? raw, out string name)
    {
        name = "";
        const string Code = "campaign.invalid_name";
        if (raw is null)
            return Fail(Code, "name", "name is required.");

        var trimmed = raw.Trim();
        // Cheap guard before normalizing: even fully decomposed, 100 scalar values never need this many UTF-16 units.
        if (trimmed.Length > MaxNameRunes * 40)
            return Fail(Code, "name", $"name must be at most {MaxNameRunes} characters.");

        // Check characters before normalizing: string.Normalize throws on unpaired surrogates and noncharacters.
        var remaining = trimmed.AsSpan();
        while (!remaining.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(remaining, out var rune, out var used) != System.Buffers.OperationStatus.Done)
                return Fail(Code, "name", "name is not valid UTF-16 (unpaired surrogate).");
            if (IsForbiddenInName(rune))
                return Fail(Code, "name", $"name contains a disallowed character U+{rune.Value:X4}.");
            remaining = remaining[used..];
        }

        string normalized;
        try
        {
            normalized = trimmed.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            return Fail(Code, "name", "name contains characters that cannot be normalized.");
        }

        var runeCount = 0;
        var visible = false;
        foreach (var rune in normalized.EnumerateRunes())
        {
            runeCount++;
            // Combining marks, spaces and separators alone make no name anyone can read or tell apart.
            visible |= Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.EnclosingMark or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
        }
        if (runeCount is < 1 or > MaxNameRunes)
            return Fail(Code, "name", $"name must be 1..{MaxNameRunes} characters after trimming.");
        if (!visible)
            return Fail(Code, "name", "name must contain a letter, digit or symbol, not only combining marks or spaces.");

        name = normalized;
        return null;
    }

    // U+FFFD marks text that was already broken on the way in (e.g. a lone surrogate replaced by a JSON encoder).
    private static bool IsForbiddenInName(Rune rune) =>
        rune == Rune.ReplacementChar || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control
            or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.Surrogate;

    // ---- issuance time: exactly one of single window, window list, schedule ----

    private static ServiceFailure? CheckTimeSpec(
        CreateCampaignRequest request, int totalQuantity, out List<CampaignWindow> windows, out string endedField)
    {
        windows = [];
        endedField = "";
        var hasSingle = request.IssueStartsAt is not null || request.IssueEndsAt is not null;
        var hasList = request.Windows is not null;
        var hasSchedule = request.Schedule is not null;
        var formCount = (hasSingle ? 1 : 0) + (hasList ? 1 : 0) + (hasSchedule ? 1 : 0);

        if (formCount == 0)
            return Fail("campaign.invalid_time_spec", "issueStartsAt", "Give exactly one of issueStartsAt/issueEndsAt, windows or schedule.");
        if (formCount > 1)
        {
            // Point at the second form given: that is the one that conflicts.
            var extra = hasSingle && hasList ? "windows" : "schedule";
            return Fail("campaign.invalid_time_spec", extra, "Give only one of issueStartsAt/issueEndsAt, windows or schedule.");
        }

        if (hasSingle)
        {
            endedField = "issueEndsAt";
            return CheckSingleWindow(request.IssueStartsAt, request.IssueEndsAt, windows);
        }
        if (hasList)
        {
            endedField = "windows";
            return CheckWindowList(request.Windows!, totalQuantity, windows);
        }
        endedField = "schedule.toDate";
        return CheckSchedule(request.Schedule!, totalQuantity, windows);
    }

    private static ServiceFailure? CheckSingleWindow(string? startsAtText, string? endsAtText, List<CampaignWindow> windows)
    {
        if (startsAtText is null)
            return Required("issueStartsAt");
        if (endsAtText is null)
            return Required("issueEndsAt");
        if (!TryParseTimestamp(startsAtText, out var startsAt))
            return InvalidTimestamp("issueStartsAt");
        if (!TryParseTimestamp(endsAtText, out var endsAt))
            return InvalidTimestamp("issueEndsAt");
        if (endsAt <= startsAt)
            return Fail("campaign.invalid_window", "issueEndsAt", "issueEndsAt must be after issueStartsAt.");

        windows.Add(new CampaignWindow(startsAt, endsAt, null));
        return null;
    }

    private static ServiceFailure? CheckWindowList(IReadOnlyList<WindowRequest?> requested, int totalQuantity, List<CampaignWindow> windows)
    {
        if (requested.Count == 0)
            return Fail("campaign.invalid_time_spec", "windows", "windows must contain at least one window.");
        if (requested.Count > MaxWindows)
            return Fail("campaign.too_many_windows", "windows", $"At most {MaxWindows} windows are allowed.");

        // Keep each window's original index so an overlap is reported where the client wrote it.
        var parsed = new List<(CampaignWindow Window, int Index)>(requested.Count);
        for (var i = 0; i < requested.Count; i++)
        {
            var path = Invariant($"windows[{i}]");
            if (requested[i] is not { } w)
                return Required(path);
            if (w.StartsAt is null)
                return Required(path + ".startsAt");
            if (w.EndsAt is null)
                return Required(path + ".endsAt");
            if (!TryParseTimestamp(w.StartsAt, out var startsAt))
                return InvalidTimestamp(path + ".startsAt");
            if (!TryParseTimestamp(w.EndsAt, out var endsAt))
                return InvalidTimestamp(path + ".endsAt");
            if (endsAt <= startsAt)
                return Fail("campaign.invalid_window", path + ".endsAt", "endsAt must be after startsAt.");
            if (CheckQuota(w.Quota, totalQuantity, path + ".quota", out var quota) is { } quotaFailure)
                return quotaFailure;
            parsed.Add((new CampaignWindow(startsAt, endsAt, quota), i));
        }

        // Sort by start; equal starts keep request order, so "the later one" is the later index.
        parsed.Sort((a, b) => a.Window.StartsAt != b.Window.StartsAt
            ? a.Window.StartsAt.CompareTo(b.Window.StartsAt)
            : a.Index.CompareTo(b.Index));

        for (var k = 1; k < parsed.Count; k++)
        {
            // Half-open windows: touching (start == previous end) is fine.
            if (parsed[k].Window.StartsAt < parsed[k - 1].Window.EndsAt)
                return Fail("campaign.windows_overlap", Invariant($"windows[{parsed[k].Index}].startsAt"),
                    Invariant($"Window {parsed[k].Index} overlaps window {parsed[k - 1].Index}."));
        }

        windows.AddRange(parsed.Select(p => p.Window));
        return null;
    }

    private static ServiceFailure? CheckQuota(long? requested, int totalQuantity, string field, out int? quota)
    {
        quota = null;
        if (requested is not { } value)
            return null;
        if (value < 1 || value > totalQuantity)
            return Fail("campaign.invalid_quota", field, Invariant($"{field} must be 1..totalQuantity ({totalQuantity})."));
        quota = (int)value;
        return null;
    }

    // ---- schedule ----

    private static ServiceFailure? CheckSchedule(ScheduleRequest schedule, int totalQuantity, List<CampaignWindow> windows)
    {
        const string Code = "campaign.invalid_schedule";

        if (!TryFindTimeZone(schedule.TimeZone, out var zone))
            return Fail(Code, "schedule.timeZone", "schedule.timeZone must be a known IANA time zone id (or \"UTC\").");
        if (!TryParseScheduleDate(schedule.FromDate, out var fromDate))
            return Fail(Code, "schedule.fromDate", "schedule.fromDate must be a date yyyy-MM-dd between 2000-01-01 and 9998-12-31.");
        if (!TryParseScheduleDate(schedule.ToDate, out var toDate))
            return Fail(Code, "schedule.toDate", "schedule.toDate must be a date yyyy-MM-dd between 2000-01-01 and 9998-12-31.");
        if (toDate < fromDate)
            return Fail(Code, "schedule.toDate", "schedule.toDate must not be before schedule.fromDate.");
        var dayCount = toDate.DayNumber - fromDate.DayNumber + 1;
        if (dayCount > MaxScheduleDays)
            return Fail(Code, "schedule.toDate", $"A schedule may cover at most {MaxScheduleDays} days.");

        if (CheckStartTimes(schedule.DailyStartTimes, out var startTimes) is { } timesFailure)
            return timesFailure;

        if (schedule.DurationSeconds is not { } seconds || seconds < 1 || seconds > MaxDurationSeconds)
            return Fail(Code, "schedule.durationSeconds", $"schedule.durationSeconds is required and must be 1..{MaxDurationSeconds}.");
        var duration = TimeSpan.FromSeconds(seconds);

        if (CheckQuota(schedule.QuotaPerWindow, totalQuantity, "schedule.quotaPerWindow", out var quota) is { } quotaFailure)
            return quotaFailure;

        // Count before expanding, so a huge schedule costs nothing.
        if ((long)dayCount * startTimes.Count > MaxWindows)
            return Fail("campaign.too_many_windows", "schedule", $"The schedule expands to more than {MaxWindows} windows.");

        var expanded = new List<CampaignWindow>(dayCount * startTimes.Count);
        for (var date = fromDate; date <= toDate; date = date.AddDays(1))
        {
            foreach (var time in startTimes)
            {
                var start = LocalToUtc(date.ToDateTime(time), zone);
                expanded.Add(new CampaignWindow(start, start + duration, quota));
            }
        }

        // Local order is already UTC order in practice; sort anyway so the overlap check is sound.
        expanded.Sort((a, b) => a.StartsAt.CompareTo(b.StartsAt));
        for (var k = 1; k < expanded.Count; k++)
        {
            if (expanded[k].StartsAt < expanded[k - 1].EndsAt)
                return Fail("campaign.windows_overlap", "schedule.durationSeconds",
                    Invariant($"Windows starting at {expanded[k - 1].StartsAt:O} and {expanded[k].StartsAt:O} overlap; shorten durationSeconds."));
        }

        windows.AddRange(expanded);
        return null;
    }

    private static ServiceFailure? CheckStartTimes(IReadOnlyList<string?>? requested, out List<TimeOnly> startTimes)
    {
        const string Code = "campaign.invalid_schedule";
        const string Field = "schedule.dailyStartTimes";
        startTimes = [];
        if (requested is null || requested.Count == 0)
            return Fail(Code, Field, "schedule.dailyStartTimes must contain at least one time.");
        if (requested.Count > MaxStartTimes)
            return Fail(Code, Field, $"schedule.dailyStartTimes may contain at most {MaxStartTimes} times.");

        var seen = new HashSet<TimeOnly>();
        for (var i = 0; i < requested.Count; i++)
        {
            var path = Invariant($"{Field}[{i}]");
            if (!TimeOnly.TryParseExact(requested[i], TimeOfDayFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
                return Fail(Code, path, "Start times must be \"HH:mm\" or \"HH:mm:ss\" (00:00..23:59:59).");
            if (!seen.Add(time))
                return Fail(Code, path, "Start times must be distinct.");
            startTimes.Add(time);
        }
        startTimes.Sort();
        return null;
    }

    private static bool TryFindTimeZone(string? id, [NotNullWhen(true)] out TimeZoneInfo? zone)
    {
        zone = null;
        // Ids are short; the length cap keeps odd strings away from the file-system lookup.
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64)
            return false;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found))
            return false;
        // On Linux .NET also resolves Windows ids ("Korea Standard Time"); the contract asks for IANA ids. The
        // zoneinfo folder also holds files that are no zone a person names ("Factory", "localtime",
        // "posixrules"): a zone is "UTC" or an Area/Location id such as "Asia/Seoul" or "Etc/GMT+9".
        if (!found.HasIanaId || (id != "UTC" && !IanaZoneId().IsMatch(id)))
            return false;
        zone = found;
        return true;
    }

    [GeneratedRegex("^[A-Z][A-Za-z]+(/[A-Za-z0-9_+-]+)+$")]
    private static partial Regex IanaZoneId();

    private static bool TryParseScheduleDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date)
            && date >= MinScheduleDate
            && date <= MaxScheduleDate;

    /// <summary>
    /// Maps a wall-clock time in <paramref name="zone"/> to a UTC instant.
    /// DST choices: a time that falls in a spring-forward gap never happens, so the window starts at
    /// the first instant after the gap (02:30 in a skipped 02:00-03:00 hour starts at 03:00 local);
    /// a time that happens twice at fall-back uses the FIRST occurrence (the earlier instant, i.e. the
    /// daylight offset), so the window opens as soon as the clock first shows that time.
    /// </summary>
    private static DateTimeOffset LocalToUtc(DateTime local, TimeZoneInfo zone)
    {
        TimeSpan offset;
        if (zone.IsAmbiguousTime(local))
            offset = zone.GetAmbiguousTimeOffsets(local).Max(); // larger offset = earlier instant
        else if (zone.IsInvalidTime(local))
            return FirstInstantAfterGap(local, zone);
        else
            offset = zone.GetUtcOffset(local);

        // Ticks, not new DateTimeOffset(local, offset): that constructor rejects offsets with seconds.
        return new DateTimeOffset(local.Ticks - offset.Ticks, TimeSpan.Zero);
    }

    private static DateTimeOffset FirstInstantAfterGap(DateTime local, TimeZoneInfo zone)
    {
        // Offsets well before and after the transition (real zones never change twice within days).
        var before = zone.GetUtcOffset(new DateTime(local.Ticks - TimeSpan.TicksPerDay * 2, DateTimeKind.Utc));
        var after = zone.GetUtcOffset(new DateTime(local.Ticks + TimeSpan.TicksPerDay * 2, DateTimeKind.Utc));

        // Read with the later offset the instant is still before the transition; with the earlier
        // offset it is at or after it. Binary-search the exact transition tick between the two.
        var lo = local.Ticks - after.Ticks;
        var hi = local.Ticks - before.Ticks;
        while (hi - lo > 1)
        {
            var mid = lo + (hi - lo) / 2;
            if (zone.GetUtcOffset(new DateTime(mid, DateTimeKind.Utc)) == before)
                lo = mid;
            else
                hi = mid;
        }
        return new DateTimeOffset(hi, TimeSpan.Zero);
    }

    // ---- timestamps ----

    /// <summary>
    /// Parses an ISO 8601 timestamp that carries an explicit offset ("+09:00", "-05:00" or "Z") and
    /// returns it in UTC. A string without an offset is rejected, never read as server-local time.
    /// </summary>
    private static bool TryParseTimestamp(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null || text.Length > 40)
            return false;

        string withOffset;
        if (text.EndsWith('Z'))
            withOffset = string.Concat(text.AsSpan(0, text.Length - 1), "+00:00");
        else if (HasNumericOffset(text))
            withOffset = text;
        else
            return false;

        if (!DateTimeOffset.TryParseExact(withOffset, TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            return false;
        // Truncated to whole milliseconds, the precision both stores keep, before any rule compares
        // instants: two instants inside one millisecond must not validate as distinct and then collide.
        var utc = parsed.ToUniversalTime();
        value = DateTimeOffset.FromUnixTimeMilliseconds(utc.ToUnixTimeMilliseconds());
        return value.Year >= 2000; // DateTimeOffset already caps the year at 9999
    }

    // "zzz" alone would also accept "+0900"; insist on the extended "+HH:MM" form.
    private static bool HasNumericOffset(string text) =>
        text.Length >= 6
        && text[^6] is '+' or '-'
        && char.IsAsciiDigit(text[^5]) && char.IsAsciiDigit(text[^4])
        && text[^3] == ':'
        && char.IsAsciiDigit(text[^2]) && char.IsAsciiDigit(text[^1]);

    // ---- benefit ----

    private static ServiceFailure? CheckBenefit(BenefitRequest? requested, out Benefit? benefit)
    {
        benefit = null;
        if (requested is null)
            return null;

        var max = requested.Type switch
        {
            "fixed_amount" => MaxFixedAmount,
            "percent" => MaxPercent,
            _ => 0m,
        };
        if (max == 0m)
            return Fail("campaign.invalid_benefit", "benefit.type", "benefit.type must be \"fixed_amount\" or \"percent\".");

        // Range first, so the rounding check below works on a small number.
        if (requested.Value is not { } value || value <= 0m || value > max || decimal.Round(value, 2) != value)
            return Fail("campaign.invalid_benefit", "benefit.value",
                Invariant($"benefit.value is required and must be greater than 0, at most {max}, with at most 2 decimals."));

        benefit = new Benefit(requested.Type!, value);
        return null;
    }

    // ---- failures ----

    private static ServiceFailure Fail(string code, string field, string message) => new(code, field, message);

    private static ServiceFailure Required(string field) =>
        Fail("validation.required", field, field + " is required.");

    private static ServiceFailure InvalidTimestamp(string field) =>
        Fail("validation.invalid_timestamp", field,
            field + " must be an ISO 8601 timestamp with an offset or 'Z' (e.g. 2026-12-01T10:00:00+09:00), years 2000..9999.");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
