using System.Globalization;
using CouponLive.Campaigns;

namespace CouponLive.Tests.Campaigns;

public sealed class CampaignValidatorTests
{
    private static readonly DateTimeOffset Now = Utc(2026, 11, 1, 0, 0);

    // ---------- helpers ----------

    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi, int s = 0) =>
        new(y, mo, d, h, mi, s, TimeSpan.Zero);

    private static CreateCampaignRequest Req(
        string? name = "Winter Sale",
        long? quantity = 1000,
        string? start = null,
        string? end = null,
        IReadOnlyList<WindowRequest?>? windows = null,
        ScheduleRequest? schedule = null,
        string? validUntil = null,
        BenefitRequest? benefit = null) =>
        new(name, quantity, start, end, windows, schedule, validUntil, benefit);

    private static CreateCampaignRequest ValidSingle() =>
        Req(start: "2026-12-01T10:00:00+09:00", end: "2026-12-01T11:00:00+09:00");

    private static WindowRequest W(string? start, string? end, long? quota = null) => new(start, end, quota);

    private static ScheduleRequest Sched(
        string? timeZone = "Asia/Seoul",
        string? from = "2026-12-01",
        string? to = "2026-12-03",
        IReadOnlyList<string?>? times = null,
        long? duration = 60,
        long? quota = null) =>
        new(timeZone, from, to, times ?? ["10:00"], duration, quota);

    private static CampaignDefinition AssertValid(CreateCampaignRequest request, DateTimeOffset? now = null)
    {
        var ok = CampaignValidator.TryValidate(request, now ?? Now, out var definition, out var failure);
        Assert.True(ok, $"expected valid, got {failure}");
        Assert.Null(failure);
        Assert.NotNull(definition);
        return definition;
    }

    private static ServiceFailure AssertFails(CreateCampaignRequest? request, string code, string field, DateTimeOffset? now = null)
    {
        var ok = CampaignValidator.TryValidate(request, now ?? Now, out var definition, out var failure);
        Assert.False(ok);
        Assert.Null(definition);
        Assert.NotNull(failure);
        Assert.Equal(code, failure.Code);
        Assert.Equal(field, failure.Field);
        Assert.False(string.IsNullOrWhiteSpace(failure.Message));
        return failure;
    }

    private static void AssertWindows(CampaignDefinition definition, params (DateTimeOffset Start, DateTimeOffset End)[] expected)
    {
        Assert.Equal(expected.Length, definition.Windows.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Start, definition.Windows[i].StartsAt);
            Assert.Equal(expected[i].End, definition.Windows[i].EndsAt);
            Assert.Equal(TimeSpan.Zero, definition.Windows[i].StartsAt.Offset);
            Assert.Equal(TimeSpan.Zero, definition.Windows[i].EndsAt.Offset);
        }
    }

    // ---------- valid forms ----------

    [Fact]
    public void Single_window_is_accepted_and_stored_in_utc()
    {
        var d = AssertValid(ValidSingle());

        Assert.Equal("Winter Sale", d.Name);
        Assert.Equal(1000, d.TotalQuantity);
        AssertWindows(d, (Utc(2026, 12, 1, 1, 0), Utc(2026, 12, 1, 2, 0)));
        Assert.Null(d.Windows[0].Quota);
        Assert.Null(d.CouponValidUntil);
        Assert.Null(d.Benefit);
    }

    [Fact]
    public void Full_request_with_valid_until_and_benefit_is_accepted()
    {
        var d = AssertValid(ValidSingle() with
        {
            CouponValidUntil = "2026-12-31T23:59:59+09:00",
            Benefit = new BenefitRequest("fixed_amount", 1500.50m),
        });

        Assert.Equal(Utc(2026, 12, 31, 14, 59, 59), d.CouponValidUntil);
        Assert.Equal(TimeSpan.Zero, d.CouponValidUntil!.Value.Offset);
        Assert.Equal(new Benefit("fixed_amount", 1500.50m), d.Benefit);
    }

    [Fact]
    public void Windows_out_of_order_are_sorted_and_converted_to_utc()
    {
        var d = AssertValid(Req(windows:
        [
            W("2026-12-03T10:00:00+09:00", "2026-12-03T10:30:00+09:00", 300),
            W("2026-12-01T01:00:00Z", "2026-12-01T01:30:00.250Z", 100),
            W("2026-12-01T20:00:00-05:00", "2026-12-01T21:00:00-05:00"),
        ]));

        AssertWindows(d,
            (Utc(2026, 12, 1, 1, 0), Utc(2026, 12, 1, 1, 30).AddMilliseconds(250)),
            (Utc(2026, 12, 2, 1, 0), Utc(2026, 12, 2, 2, 0)),
            (Utc(2026, 12, 3, 1, 0), Utc(2026, 12, 3, 1, 30)));
        Assert.Equal(new int?[] { 100, null, 300 }, d.Windows.Select(w => w.Quota));
    }

    [Fact]
    public void Touching_windows_are_allowed()
    {
        var d = AssertValid(Req(windows:
        [
            W("2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"),
            W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
        ]));

        AssertWindows(d,
            (Utc(2026, 12, 1, 10, 0), Utc(2026, 12, 1, 11, 0)),
            (Utc(2026, 12, 1, 11, 0), Utc(2026, 12, 1, 12, 0)));
    }

    [Fact]
    public void Schedule_in_seoul_expands_to_thirty_utc_windows()
    {
        // Given out of order on purpose; Seoul is +09:00 all year.
        string[] times = ["10:45", "10:00", "10:05", "10:10", "10:15", "10:20", "10:25", "10:30", "10:35", "10:40"];
        var d = AssertValid(Req(schedule: Sched(times: times, duration: 60, quota: 50)));

        Assert.Equal(30, d.Windows.Count);
        Assert.Equal(Utc(2026, 12, 1, 1, 0), d.Windows[0].StartsAt);
        Assert.Equal(Utc(2026, 12, 1, 1, 1), d.Windows[0].EndsAt);
        Assert.Equal(Utc(2026, 12, 1, 1, 5), d.Windows[1].StartsAt);
        Assert.Equal(Utc(2026, 12, 1, 1, 45), d.Windows[9].StartsAt);
        Assert.Equal(Utc(2026, 12, 2, 1, 0), d.Windows[10].StartsAt);
        Assert.Equal(Utc(2026, 12, 3, 1, 45), d.Windows[29].StartsAt);
        Assert.Equal(Utc(2026, 12, 3, 1, 46), d.Windows[29].EndsAt);
        Assert.All(d.Windows, w =>
        {
            Assert.Equal(TimeSpan.FromSeconds(60), w.EndsAt - w.StartsAt);
            Assert.Equal(TimeSpan.Zero, w.StartsAt.Offset);
            Assert.Equal(50, w.Quota);
        });
        Assert.Equal(d.Windows.OrderBy(w => w.StartsAt), d.Windows);
    }

    [Fact]
    public void Schedule_accepts_utc_zone_and_seconds_in_start_times()
    {
        var d = AssertValid(Req(schedule: Sched(timeZone: "UTC", from: "2026-12-01", to: "2026-12-01", times: ["23:59:30"], duration: 30)));

        AssertWindows(d, (Utc(2026, 12, 1, 23, 59, 30), Utc(2026, 12, 2, 0, 0)));
    }

    [Fact]
    public void Schedule_across_berlin_spring_forward_moves_gap_start_to_end_of_gap()
    {
        // 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z). 02:30 that day does not exist -> 03:00 CEST = 01:00Z.
        var d = AssertValid(Req(schedule: Sched(
            timeZone: "Europe/Berlin", from: "2026-03-28", to: "2026-03-30", times: ["12:00", "02:30"], duration: 600)),
            now: Utc(2026, 3, 1, 0, 0));

        AssertWindows(d,
            (Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 28, 1, 40)), // 02:30 CET (+01:00)
            (Utc(2026, 3, 28, 11, 0), Utc(2026, 3, 28, 11, 10)), // 12:00 CET
            (Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 29, 1, 10)), // 02:30 in the gap -> 03:00 CEST
            (Utc(2026, 3, 29, 10, 0), Utc(2026, 3, 29, 10, 10)), // 12:00 CEST (+02:00)
            (Utc(2026, 3, 30, 0, 30), Utc(2026, 3, 30, 0, 40)), // 02:30 CEST
            (Utc(2026, 3, 30, 10, 0), Utc(2026, 3, 30, 10, 10))); // 12:00 CEST
    }

    [Fact]
    public void Schedule_across_berlin_fall_back_uses_first_occurrence_of_ambiguous_time()
    {
        // 2026-10-25 03:00 CEST falls back to 02:00 CET (at 01:00Z): 02:00-02:59 happens twice.
        var d = AssertValid(Req(schedule: Sched(
            timeZone: "Europe/Berlin", from: "2026-10-24", to: "2026-10-26", times: ["02:30"], duration: 3600)),
            now: Utc(2026, 10, 1, 0, 0));

        AssertWindows(d,
            (Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 24, 1, 30)), // 02:30 CEST (+02:00)
            (Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1, 30)), // first 02:30, still CEST
            (Utc(2026, 10, 26, 1, 30), Utc(2026, 10, 26, 2, 30))); // 02:30 CET (+01:00)
    }

    [Fact]
    public void Schedule_in_new_york_spring_forward_gap_starts_at_three()
    {
        // 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z); 02:00:00 itself is inside the gap.
        var d = AssertValid(Req(schedule: Sched(
            timeZone: "America/New_York", from: "2026-03-08", to: "2026-03-08", times: ["02:00:00"], duration: 60)),
            now: Utc(2026, 3, 1, 0, 0));

        AssertWindows(d, (Utc(2026, 3, 8, 7, 0), Utc(2026, 3, 8, 7, 1)));
    }

    [Fact]
    public void Schedule_start_times_that_land_on_the_same_instant_after_a_gap_overlap()
    {
        // 02:30 (in the gap) and 03:00 both become 01:00Z on 2026-03-29 in Berlin.
        AssertFails(Req(schedule: Sched(
            timeZone: "Europe/Berlin", from: "2026-03-29", to: "2026-03-29", times: ["02:30", "03:00"], duration: 60)),
            "campaign.windows_overlap", "schedule.durationSeconds", now: Utc(2026, 3, 1, 0, 0));
    }

    [Theory]
    [InlineData("2026-12-01T01:00:00Z", "2026-12-01T01:00:00.0000000+00:00")]
    [InlineData("2026-12-01T10:00:00+09:00", "2026-12-01T01:00:00.0000000+00:00")]
    [InlineData("2026-11-30T20:00:00-05:00", "2026-12-01T01:00:00.0000000+00:00")]
    [InlineData("2026-12-01T01:00:00.5Z", "2026-12-01T01:00:00.5000000+00:00")]
    [InlineData("2026-12-01T10:00:00.1234567+09:00", "2026-12-01T01:00:00.1230000+00:00")] // to the millisecond the store keeps
    [InlineData("2026-12-01T06:30:00+05:30", "2026-12-01T01:00:00.0000000+00:00")]
    public void Timestamps_with_offset_are_read_to_the_millisecond(string text, string expectedUtc)
    {
        var d = AssertValid(Req(start: text, end: "2026-12-02T00:00:00Z"));

        Assert.Equal(expectedUtc, d.Windows[0].StartsAt.ToString("O", CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Windows_inside_one_millisecond_are_refused_as_empty()
    {
        AssertFails(Req(start: "2030-01-01T00:00:00.0000001Z", end: "2030-01-01T00:00:00.0000002Z"), "campaign.invalid_window", "issueEndsAt");
        var twoInOne = Req(windows: [W("2030-01-01T00:00:00.0001Z", "2030-01-01T00:00:00.0005Z"), W("2030-01-01T00:00:00.0006Z", "2030-01-01T00:00:00.0009Z")]);
        AssertFails(twoInOne, "campaign.invalid_window", "windows[0].endsAt");
    }

    [Theory]
    [InlineData("Factory")]
    [InlineData("localtime")]
    [InlineData("posixrules")]
    [InlineData("Korea Standard Time")]
    public void Only_named_iana_zones_are_taken(string zone) =>
        AssertFails(Req(schedule: Sched(timeZone: zone, from: "2030-01-01", to: "2030-01-02", times: ["10:00"], duration: 60)), "campaign.invalid_schedule", "schedule.timeZone");

    [Theory]
    [InlineData("\u0301\u0302\u0303")]
    [InlineData("\u0301 \u20dd")]
    public void A_name_of_combining_marks_alone_is_refused(string name) =>
        AssertFails(Req(name: name), "campaign.invalid_name", "name");

    // ---------- request / name / quantity ----------

    [Fact]
    public void Null_request_requires_body()
    {
        AssertFails(null, "request.body_required", "");
    }

    [Fact]
    public void Name_is_trimmed_and_nfc_normalized()
    {
        // "한글" written as conjoining jamo (NFD): 6 UTF-16 units compose to 2 syllables.
        var decomposed = "  \u1112\u1161\u11AB\u1100\u1173\u11AF  ";
        var d = AssertValid(ValidSingle() with { Name = decomposed });

        Assert.Equal("\uD55C\uAE00", d.Name);
        Assert.Equal(2, d.Name.Length);
    }

    [Fact]
    public void Name_of_100_runes_is_accepted_counting_runes_not_chars()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 100)); // 200 UTF-16 units
        Assert.Equal(emoji, AssertValid(ValidSingle() with { Name = emoji }).Name);

        // 100 Hangul syllables typed as 300 jamo: counted after NFC, so still 100.
        var jamo = string.Concat(Enumerable.Repeat("\u1112\u1161\u11AB", 100));
        Assert.Equal(new string('\uD55C', 100), AssertValid(ValidSingle() with { Name = jamo }).Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n ")]
    [InlineData("bad\u0007bell")] // Cc
    [InlineData("line\nbreak")] // Cc
    [InlineData("zero\u200Bwidth")] // Cf
    [InlineData("rtl\u202Eoverride")] // Cf
    [InlineData("private\uE000use")] // Co
    [InlineData("unassigned\u0378")] // Cn
    [InlineData("nonchar\uFFFE")] // Cn, and string.Normalize would throw on it
    public void Invalid_names_are_rejected(string? name)
    {
        AssertFails(ValidSingle() with { Name = name }, "campaign.invalid_name", "name");
    }

    [Fact]
    public void Names_with_unpaired_surrogates_are_rejected()
    {
        // Built in code: attribute strings cannot carry invalid UTF-16 (it would arrive as U+FFFD).
        var highSurrogate = (char)0xD800;
        var lowSurrogate = (char)0xDC00;
        string[] names = ["lone" + highSurrogate + "high", "lone" + lowSurrogate + "low", "ends with high" + (char)0xD83D, lowSurrogate + "\U0001F600"];
        foreach (var name in names)
        {
            Assert.DoesNotContain('\uFFFD', name); // really unpaired, not already replaced
            AssertFails(ValidSingle() with { Name = name }, "campaign.invalid_name", "name");
        }
    }

    [Fact]
    public void Name_of_101_runes_is_rejected()
    {
        AssertFails(ValidSingle() with { Name = new string('a', 101) }, "campaign.invalid_name", "name");
        AssertFails(ValidSingle() with { Name = string.Concat(Enumerable.Repeat("\U0001F600", 101)) }, "campaign.invalid_name", "name");
        AssertFails(ValidSingle() with { Name = new string('x', 1_000_000) }, "campaign.invalid_name", "name");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(10_000_001L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Invalid_total_quantity_is_rejected(long? quantity)
    {
        AssertFails(ValidSingle() with { TotalQuantity = quantity }, "campaign.invalid_quantity", "totalQuantity");
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(10_000_000L)]
    public void Total_quantity_bounds_are_accepted(long quantity)
    {
        Assert.Equal(quantity, AssertValid(ValidSingle() with { TotalQuantity = quantity }).TotalQuantity);
    }

    [Fact]
    public void First_failure_in_field_order_is_reported()
    {
        var allBad = new CreateCampaignRequest("", 0, null, null, null, null, "nope", new BenefitRequest("x", 0m));
        AssertFails(allBad, "campaign.invalid_name", "name");
        AssertFails(allBad with { Name = "ok" }, "campaign.invalid_quantity", "totalQuantity");
        AssertFails(allBad with { Name = "ok", TotalQuantity = 5 }, "campaign.invalid_time_spec", "issueStartsAt");
        AssertFails(ValidSingle() with { CouponValidUntil = "nope", Benefit = new BenefitRequest("x", 0m) },
            "validation.invalid_timestamp", "couponValidUntil");
    }

    // ---------- time spec ----------

    [Fact]
    public void No_time_spec_is_rejected()
    {
        AssertFails(Req(), "campaign.invalid_time_spec", "issueStartsAt");
    }

    [Fact]
    public void Only_one_of_start_and_end_is_required_error_on_the_missing_one()
    {
        AssertFails(Req(start: "2026-12-01T10:00:00Z"), "validation.required", "issueEndsAt");
        AssertFails(Req(end: "2026-12-01T10:00:00Z"), "validation.required", "issueStartsAt");
    }

    [Fact]
    public void Two_forms_at_once_are_rejected()
    {
        var window = new WindowRequest?[] { W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z") };
        AssertFails(ValidSingle() with { Windows = window }, "campaign.invalid_time_spec", "windows");
        AssertFails(ValidSingle() with { Schedule = Sched() }, "campaign.invalid_time_spec", "schedule");
        AssertFails(Req(windows: window, schedule: Sched()), "campaign.invalid_time_spec", "schedule");
        // A lone issueEndsAt still counts as the single-window form.
        AssertFails(Req(end: "2026-12-01T10:00:00Z", schedule: Sched()), "campaign.invalid_time_spec", "schedule");
    }

    [Theory]
    [InlineData("2026-12-01T10:00:00")] // no offset: must not be read as server-local time
    [InlineData("2026-12-01T10:00:00.123")]
    [InlineData("2026-12-01 10:00:00+09:00")]
    [InlineData("2026-12-01T10:00:00+0900")]
    [InlineData("2026-12-01T10:00:00+09")]
    [InlineData("2026-12-01T10:00:00.+09:00")]
    [InlineData("2026-12-01T10:00:00.12345678Z")]
    [InlineData("2026-12-01T10:00:00z")]
    [InlineData("2026-12-01T10:00Z")]
    [InlineData("2026-12-01")]
    [InlineData(" 2026-12-01T10:00:00Z")]
    [InlineData("2026-13-01T10:00:00Z")]
    [InlineData("2026-02-30T10:00:00Z")]
    [InlineData("2026-12-01T24:00:00Z")]
    [InlineData("2026-12-01T10:00:00+15:00")]
    [InlineData("1999-12-31T23:59:59Z")]
    [InlineData("2000-01-01T08:00:00+09:00")] // 1999 in UTC
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:00:00-02:00")]
    [InlineData("")]
    [InlineData("Z")]
    [InlineData("+09:00")]
    [InlineData("tomorrow")]
    public void Bad_timestamps_are_rejected_with_field_path(string text)
    {
        AssertFails(Req(start: text, end: "2026-12-02T00:00:00Z"), "validation.invalid_timestamp", "issueStartsAt");
        AssertFails(Req(start: "2026-12-01T00:00:00Z", end: text), "validation.invalid_timestamp", "issueEndsAt");
        AssertFails(Req(windows:
        [
            W("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"),
            W("2026-12-02T00:00:00Z", "2026-12-02T01:00:00Z"),
            W(text, "2026-12-03T01:00:00Z"),
        ]), "validation.invalid_timestamp", "windows[2].startsAt");
        AssertFails(Req(windows: [W("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"), W("2026-12-02T00:00:00Z", text)]),
            "validation.invalid_timestamp", "windows[1].endsAt");
        AssertFails(ValidSingle() with { CouponValidUntil = text }, "validation.invalid_timestamp", "couponValidUntil");
    }

    [Fact]
    public void Window_end_must_be_after_start()
    {
        AssertFails(Req(start: "2026-12-01T10:00:00Z", end: "2026-12-01T10:00:00Z"), "campaign.invalid_window", "issueEndsAt");
        AssertFails(Req(start: "2026-12-01T10:00:00+09:00", end: "2026-12-01T00:59:59Z"), "campaign.invalid_window", "issueEndsAt");
        AssertFails(Req(windows: [W("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"), W("2026-12-02T10:00:00Z", "2026-12-02T09:00:00Z")]),
            "campaign.invalid_window", "windows[1].endsAt");
        // Same instant written with two offsets is still an empty window.
        AssertFails(Req(windows: [W("2026-12-01T10:00:00+09:00", "2026-12-01T01:00:00Z")]), "campaign.invalid_window", "windows[0].endsAt");
    }

    [Fact]
    public void Overlap_is_reported_on_the_later_window_with_its_original_index()
    {
        // Sorted: [0] 10:00-11:00, [2] 10:30-10:45, [1] 12:00-13:00 -> [2] overlaps [0].
        AssertFails(Req(windows:
        [
            W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
            W("2026-12-01T12:00:00Z", "2026-12-01T13:00:00Z"),
            W("2026-12-01T10:30:00Z", "2026-12-01T10:45:00Z"),
        ]), "campaign.windows_overlap", "windows[2].startsAt");

        // Sorted: [1] 10:00-11:00, [0] 10:59:59.999 -> the later one is index 0.
        AssertFails(Req(windows:
        [
            W("2026-12-01T10:59:59.999Z", "2026-12-01T12:00:00Z"),
            W("2026-12-01T19:00:00+09:00", "2026-12-01T11:00:00Z"),
        ]), "campaign.windows_overlap", "windows[0].startsAt");

        // Same start: the later one in request order is reported.
        AssertFails(Req(windows:
        [
            W("2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z"),
            W("2026-12-01T10:00:00Z", "2026-12-01T10:20:00Z"),
        ]), "campaign.windows_overlap", "windows[1].startsAt");
    }

    [Fact]
    public void Window_list_size_limits()
    {
        AssertFails(Req(windows: []), "campaign.invalid_time_spec", "windows");

        var start = Utc(2026, 12, 1, 0, 0);
        WindowRequest?[] Touching(int count) => Enumerable.Range(0, count)
            .Select(i => (WindowRequest?)W(
                start.AddMinutes(i).ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture),
                start.AddMinutes(i + 1).ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture)))
            .ToArray();

        Assert.Equal(1000, AssertValid(Req(windows: Touching(1000))).Windows.Count);
        AssertFails(Req(windows: Touching(1001)), "campaign.too_many_windows", "windows");

        // Rejected on count alone, before any entry is looked at.
        AssertFails(Req(windows: new WindowRequest?[100_000]), "campaign.too_many_windows", "windows");
    }

    [Fact]
    public void Missing_window_parts_are_required()
    {
        AssertFails(Req(windows: [W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"), null]), "validation.required", "windows[1]");
        AssertFails(Req(windows: [W(null, "2026-12-01T11:00:00Z")]), "validation.required", "windows[0].startsAt");
        AssertFails(Req(windows: [W("2026-12-01T10:00:00Z", null)]), "validation.required", "windows[0].endsAt");
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(1001L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Invalid_quota_is_rejected(long quota)
    {
        AssertFails(Req(windows: [W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", quota)]), "campaign.invalid_quota", "windows[0].quota");
        AssertFails(Req(schedule: Sched(quota: quota)), "campaign.invalid_quota", "schedule.quotaPerWindow");
    }

    [Fact]
    public void Quota_equal_to_total_quantity_is_accepted()
    {
        Assert.Equal(1000, AssertValid(Req(windows: [W("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", 1000)])).Windows[0].Quota);
        Assert.Equal(1, AssertValid(Req(schedule: Sched(quota: 1))).Windows[0].Quota);
    }

    // ---------- schedule ----------

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Mars/Olympus")]
    [InlineData("Korea Standard Time")] // a Windows id, not IANA
    [InlineData("../../etc/passwd")]
    [InlineData("/usr/share/zoneinfo/Asia/Seoul")]
    [InlineData("Asia/Seoul\0")]
    public void Unknown_time_zone_is_rejected(string? timeZone)
    {
        AssertFails(Req(schedule: Sched(timeZone: timeZone)), "campaign.invalid_schedule", "schedule.timeZone");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("2026/12/01")]
    [InlineData("2026-12-1")]
    [InlineData("2026-12-01T00:00:00Z")]
    [InlineData("2026-02-30")]
    [InlineData("1999-12-31")]
    [InlineData("9999-12-31")]
    public void Bad_schedule_dates_are_rejected(string? date)
    {
        AssertFails(Req(schedule: Sched(from: date)), "campaign.invalid_schedule", "schedule.fromDate");
        AssertFails(Req(schedule: Sched(to: date)), "campaign.invalid_schedule", "schedule.toDate");
    }

    [Fact]
    public void Schedule_date_order_and_span()
    {
        AssertFails(Req(schedule: Sched(from: "2026-12-03", to: "2026-12-02")), "campaign.invalid_schedule", "schedule.toDate");
        // 2028 is a leap year: 366 dates is the maximum.
        Assert.Equal(366, AssertValid(Req(schedule: Sched(from: "2028-01-01", to: "2028-12-31"))).Windows.Count);
        AssertFails(Req(schedule: Sched(from: "2028-01-01", to: "2029-01-01")), "campaign.invalid_schedule", "schedule.toDate");
    }

    [Theory]
    [InlineData("24:00")]
    [InlineData("9:00")]
    [InlineData("10:00:60")]
    [InlineData("10:60")]
    [InlineData("10:00:00.5")]
    [InlineData(" 10:00")]
    [InlineData("10")]
    [InlineData("")]
    [InlineData(null)]
    public void Bad_start_times_are_rejected_with_index(string? time)
    {
        AssertFails(Req(schedule: Sched(times: ["09:00", time])), "campaign.invalid_schedule", "schedule.dailyStartTimes[1]");
    }

    [Fact]
    public void Start_time_list_rules()
    {
        AssertFails(Req(schedule: Sched(times: ["10:00", "10:00:00"])), "campaign.invalid_schedule", "schedule.dailyStartTimes[1]");
        AssertFails(Req(schedule: Sched(times: [])), "campaign.invalid_schedule", "schedule.dailyStartTimes");
        AssertFails(Req(schedule: Sched() with { DailyStartTimes = null }), "campaign.invalid_schedule", "schedule.dailyStartTimes");

        var times = Enumerable.Range(0, 101).Select(i => (string?)TimeOnly.FromTimeSpan(TimeSpan.FromMinutes(i)).ToString("HH:mm", CultureInfo.InvariantCulture)).ToArray();
        AssertFails(Req(schedule: Sched(from: "2026-12-01", to: "2026-12-01", times: times)), "campaign.invalid_schedule", "schedule.dailyStartTimes");
        Assert.Equal(100, AssertValid(Req(schedule: Sched(from: "2026-12-01", to: "2026-12-01", times: times[..100]))).Windows.Count);
        AssertFails(Req(schedule: Sched(times: new string?[1_000_000])), "campaign.invalid_schedule", "schedule.dailyStartTimes");
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0L)]
    [InlineData(-5L)]
    [InlineData(86_401L)]
    [InlineData(long.MaxValue)]
    public void Bad_duration_is_rejected(long? duration)
    {
        AssertFails(Req(schedule: Sched(duration: duration)), "campaign.invalid_schedule", "schedule.durationSeconds");
    }

    [Fact]
    public void Full_day_duration_with_one_start_time_touches_and_is_accepted()
    {
        var d = AssertValid(Req(schedule: Sched(timeZone: "UTC", from: "2026-12-01", to: "2026-12-02", times: ["00:00"], duration: 86_400)));

        AssertWindows(d,
            (Utc(2026, 12, 1, 0, 0), Utc(2026, 12, 2, 0, 0)),
            (Utc(2026, 12, 2, 0, 0), Utc(2026, 12, 3, 0, 0)));
    }

    [Fact]
    public void Schedule_expanding_to_more_than_1000_windows_is_rejected()
    {
        string[] tenTimes = ["10:00", "10:05", "10:10", "10:15", "10:20", "10:25", "10:30", "10:35", "10:40", "10:45"];
        // 100 days x 10 = 1000 is fine; 101 days x 10 = 1010 is not.
        Assert.Equal(1000, AssertValid(Req(schedule: Sched(from: "2026-12-01", to: "2027-03-10", times: tenTimes))).Windows.Count);
        AssertFails(Req(schedule: Sched(from: "2026-12-01", to: "2027-03-11", times: tenTimes)), "campaign.too_many_windows", "schedule");
    }

    [Fact]
    public void Schedule_windows_that_overlap_after_expansion_are_rejected()
    {
        AssertFails(Req(schedule: Sched(times: ["10:00", "10:01"], duration: 61)), "campaign.windows_overlap", "schedule.durationSeconds");
        Assert.Equal(6, AssertValid(Req(schedule: Sched(times: ["10:00", "10:01"], duration: 60))).Windows.Count);
        // 23:30 + 1h runs into the next day's 00:00.
        AssertFails(Req(schedule: Sched(times: ["00:00", "23:30"], duration: 3600)), "campaign.windows_overlap", "schedule.durationSeconds");
    }

    // ---------- already ended / valid until ----------

    [Fact]
    public void Campaign_that_has_already_ended_is_rejected_per_form()
    {
        var lateNow = Utc(2026, 12, 1, 2, 0); // == end of the single window
        AssertFails(ValidSingle(), "campaign.already_ended", "issueEndsAt", now: lateNow);
        AssertValid(ValidSingle(), now: lateNow.AddTicks(-1)); // started but not ended is fine

        AssertFails(Req(windows: [W("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z")]), "campaign.already_ended", "windows");
        // Only the last window matters.
        AssertValid(Req(windows: [W("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"), W("2026-11-01T00:00:00Z", "2026-11-01T00:00:01Z")]));

        AssertFails(Req(schedule: Sched(from: "2026-10-01", to: "2026-10-31")), "campaign.already_ended", "schedule.toDate");
    }

    [Fact]
    public void Coupon_valid_until_must_be_after_last_window_end()
    {
        // The last window in request order is not the one that ends last.
        var windows = new WindowRequest?[]
        {
            W("2026-12-05T00:00:00Z", "2026-12-05T01:00:00Z"),
            W("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"),
        };
        AssertFails(Req(windows: windows, validUntil: "2026-12-02T00:00:00Z"), "campaign.invalid_valid_until", "couponValidUntil");
        AssertFails(Req(windows: windows, validUntil: "2026-12-05T10:00:00+09:00"), "campaign.invalid_valid_until", "couponValidUntil");
        Assert.Equal(Utc(2026, 12, 5, 1, 0, 1), AssertValid(Req(windows: windows, validUntil: "2026-12-05T01:00:01Z")).CouponValidUntil);
    }

    // ---------- benefit ----------

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Percent")]
    [InlineData("FIXED_AMOUNT")]
    [InlineData("discount")]
    [InlineData(" percent")]
    public void Bad_benefit_type_is_rejected(string? type)
    {
        AssertFails(ValidSingle() with { Benefit = new BenefitRequest(type, 10m) }, "campaign.invalid_benefit", "benefit.type");
    }

    [Theory]
    [InlineData("fixed_amount", null)]
    [InlineData("fixed_amount", "0")]
    [InlineData("fixed_amount", "-1")]
    [InlineData("fixed_amount", "1000000000.01")]
    [InlineData("fixed_amount", "1.001")]
    [InlineData("fixed_amount", "79228162514264337593543950335")]
    [InlineData("fixed_amount", "-79228162514264337593543950335")]
    [InlineData("percent", null)]
    [InlineData("percent", "0")]
    [InlineData("percent", "100.01")]
    [InlineData("percent", "12.345")]
    [InlineData("percent", "0.001")]
    public void Bad_benefit_value_is_rejected(string type, string? value)
    {
        decimal? parsed = value is null ? null : decimal.Parse(value, CultureInfo.InvariantCulture);
        AssertFails(ValidSingle() with { Benefit = new BenefitRequest(type, parsed) }, "campaign.invalid_benefit", "benefit.value");
    }

    [Theory]
    [InlineData("fixed_amount", "0.01")]
    [InlineData("fixed_amount", "1000000000")]
    [InlineData("fixed_amount", "5000.500")] // trailing zero: still 2 decimals
    [InlineData("percent", "100")]
    [InlineData("percent", "12.5")]
    [InlineData("percent", "0.01")]
    public void Good_benefit_values_are_accepted(string type, string value)
    {
        var amount = decimal.Parse(value, CultureInfo.InvariantCulture);
        Assert.Equal(new Benefit(type, amount), AssertValid(ValidSingle() with { Benefit = new BenefitRequest(type, amount) }).Benefit);
    }

    // ---------- robustness ----------

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(12345);
        string[] pieces = ["2026-12-01", "T", "10:00:00", "+09:00", "Z", ".", "\uD800", "\u0000", "9999", "-", ":", " ", "Asia/Seoul", "UTC", "24:00", "a"];
        string? Junk() => random.Next(8) == 0 ? null
            : string.Concat(Enumerable.Range(0, random.Next(0, 6)).Select(_ => pieces[random.Next(pieces.Length)]));
        long? Number() => random.Next(6) switch
        {
            0 => null,
            1 => long.MinValue,
            2 => long.MaxValue,
            _ => random.NextInt64(-10, 2_000),
        };

        for (var i = 0; i < 2_000; i++)
        {
            var request = new CreateCampaignRequest(
                Junk(),
                Number(),
                Junk(),
                Junk(),
                random.Next(3) == 0 ? [W(Junk(), Junk(), Number()), null] : null,
                random.Next(3) == 0 ? new ScheduleRequest(Junk(), Junk(), Junk(), [Junk(), Junk()], Number(), Number()) : null,
                Junk(),
                random.Next(2) == 0 ? new BenefitRequest(Junk(), random.Next(2) == 0 ? decimal.MaxValue : -0.5m) : null);

            var ok = CampaignValidator.TryValidate(request, Now, out var definition, out var failure);
            Assert.Equal(ok, definition is not null);
            Assert.Equal(ok, failure is null);
        }
    }

    [Fact]
    public void Extreme_dates_and_times_never_throw()
    {
        // Latest schedule date, most negative-offset zone, longest duration: must not overflow.
        var d = AssertValid(Req(schedule: Sched(timeZone: "Etc/GMT+12", from: "9998-12-31", to: "9998-12-31", times: ["23:59:59"], duration: 86_400)));
        Assert.Equal(new DateTimeOffset(9999, 1, 1, 11, 59, 59, TimeSpan.Zero), d.Windows[0].StartsAt);

        AssertValid(Req(start: "9999-12-31T23:00:00Z", end: "9999-12-31T23:59:59.9999999Z"));
        AssertFails(Req(start: "9999-12-31T23:00:00Z", end: "9999-12-31T23:59:59.9999999Z"), "campaign.already_ended", "issueEndsAt",
            now: DateTimeOffset.MaxValue);
        AssertFails(ValidSingle() with { CouponValidUntil = "9999-12-31T23:59:59.9999999-00:01" }, "validation.invalid_timestamp", "couponValidUntil");
    }
}
