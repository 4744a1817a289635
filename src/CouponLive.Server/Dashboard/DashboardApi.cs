using System.Reflection;
using System.Text.Json;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Dashboard;

public sealed record CampaignSummary(long Id, string Name, int TotalQuantity, int IssuedCount, string Status, DateTimeOffset StartsAt, DateTimeOffset EndsAt);
public sealed record CampaignList(IReadOnlyList<CampaignSummary> Items);
public sealed record LiveSecondView(long T, long[] Outcomes, double P50Ms, double P99Ms);
public sealed record LiveSnapshot(CampaignResponse Campaign, IReadOnlyList<string> OutcomeNames, IReadOnlyList<LiveSecondView> Seconds, IReadOnlyList<CouponItem> Recent);

/// <summary>The dashboard: static page, campaign list, and the live view pushed once a second (server-sent events).</summary>
public static class DashboardApi
{
    public const int LiveHistorySeconds = 120;
    private static readonly TimeSpan MaxStream = TimeSpan.FromHours(2);

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dashboard", () => Asset("index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => Asset(file)).ExcludeFromDescription();
        var api = app.MapGroup("/api/v1/campaigns").WithTags("Dashboard").RequireAuthorization(Roles.Admin);
        api.MapGet("/", ListCampaigns);
        api.MapGet("/{id}/live", StreamLive);
        return app;
    }

    public static async Task<Ok<CampaignList>> ListCampaigns(ICouponStore store, CampaignCatalog catalog, TimeProvider time, CancellationToken ct)
    {
        var items = new List<CampaignSummary>();
        foreach (var id in await store.ListCampaignIdsAsync(200, ct))
        {
            if (await catalog.GetAsync(id, ct) is not { } campaign) continue;
            var counts = await store.GetCountsAsync(id, ct);
            var (status, _, _) = CampaignStatus.Compute(campaign, counts, time.GetUtcNow());
            items.Add(new CampaignSummary(id, campaign.Name, campaign.TotalQuantity, counts.Issued, status, campaign.Windows[0].StartsAt, campaign.Windows[^1].EndsAt));
        }
        return TypedResults.Ok(new CampaignList(items));
    }

    /// <summary>One JSON snapshot per second as an event stream, until the client leaves (at most two hours).</summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamLive(
        string id, HttpContext http, ICouponStore store, CampaignCatalog catalog, ILiveStatsStore live, TimeProvider time, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return CampaignsApi.NotFound();

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // let a proxy pass events through at once
        var until = time.GetUtcNow() + MaxStream;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        do
        {
            var snapshot = await SnapshotAsync(campaign, store, live, time.GetUtcNow(), ct);
            await http.Response.WriteAsync("data: ", ct);
            await JsonSerializer.SerializeAsync(http.Response.Body, snapshot, AppJsonContext.Default.LiveSnapshot, ct);
            await http.Response.WriteAsync("\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
        }
        while (time.GetUtcNow() < until && await timer.WaitForNextTickAsync(ct));
        return TypedResults.Empty;
    }

    public static async Task<LiveSnapshot> SnapshotAsync(StoredCampaign campaign, ICouponStore store, ILiveStatsStore live, DateTimeOffset now, CancellationToken ct)
    {
        var counts = await store.GetCountsAsync(campaign.Id, ct);
        var nowSecond = now.ToUnixTimeSeconds();
        var seconds = (await live.ReadAsync(campaign.Id, nowSecond - LiveHistorySeconds, nowSecond))
            .Select(s => new LiveSecondView(s.Second, s.Counts.Outcomes, s.Counts.PercentileMs(0.50), s.Counts.PercentileMs(0.99)))
            .ToList();
        var recent = (await store.ListRecentCouponsAsync(campaign.Id, 12, ct))
            .Select(c => new CouponItem(c.Code, c.UserId, c.Sequence, c.IssuedAt)).ToList();
        return new LiveSnapshot(CampaignsApi.ToResponse(campaign, counts, now), LiveStats.Outcomes, seconds, recent);
    }

    private static IResult Asset(string file)
    {
        var contentType = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => null,
        };
        var stream = contentType is null ? null : Assembly.GetExecutingAssembly().GetManifestResourceStream("dashboard/" + file);
        return stream is null
            ? Problems.Of(404, ErrorCodes.NotFound, "No such dashboard file.")
            : Results.Stream(stream, contentType);
    }
}
