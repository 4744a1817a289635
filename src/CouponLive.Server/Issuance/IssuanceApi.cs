using System.Diagnostics;
using System.Security.Claims;
using CouponLive.Dashboard;
using CouponLive.Diagnostics;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Issuance;

public sealed record IssueResponse(
    string Code,
    long CampaignId,
    string UserId,
    long Sequence,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ValidUntil,
    bool AlreadyIssued);

/// <summary>Marks the issue endpoint, so requests refused before it runs (auth) still count in the campaign's live view.</summary>
public sealed class IssueEndpoint
{
    public static readonly IssueEndpoint Instance = new();
}

public sealed record MyCoupon(string Code, long CampaignId, string CampaignName, long Sequence, DateTimeOffset IssuedAt, DateTimeOffset? ValidUntil);
public sealed record MyCoupons(IReadOnlyList<MyCoupon> Items);

public static class IssuanceApi
{
    public static IEndpointRouteBuilder MapIssuanceApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Issuance").RequireAuthorization();
        api.MapPost("/campaigns/{id}/issue", Issue).WithMetadata(IssueEndpoint.Instance);
        api.MapGet("/me/coupons", ListMine);
        return app;
    }

    // The issue endpoint's refusals, encoded once: most answers of an event are these.
    private static readonly PreparedProblem NotOpen = new(409, ErrorCodes.NotOpen, "The campaign is not open now.");
    private static readonly PreparedProblem Ended = new(409, ErrorCodes.Ended, "The campaign has ended.");
    private static readonly PreparedProblem SoldOut = new(409, ErrorCodes.SoldOut, "All coupons of this campaign are issued.");
    private static readonly PreparedProblem WindowSoldOut = new(409, ErrorCodes.WindowSoldOut, "All coupons of the current window are issued.");
    private static readonly PreparedProblem Unavailable = new(503, ErrorCodes.ServiceUnavailable, "Issuing is briefly unavailable; retry shortly.");

    public static async Task<Results<IssuedAnswer, ProblemHttpResult, PreparedProblem>> Issue(
        string id, ClaimsPrincipal user, HttpContext http, IssuanceService issuance, CouponMetrics metrics, LiveStats live, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var result = CampaignCatalog.TryParseId(id, out var campaignId)
            ? await issuance.IssueAsync(campaignId, user.UserId(), ct)
            : new IssueResult(IssueStatus.NotFound);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcomeName = OutcomeName(result.Status);
        var outcome = CouponMetrics.Tag("outcome", outcomeName);
        metrics.IssueRequests.Add(1, outcome);
        metrics.IssueDuration.Record(elapsed.TotalSeconds, outcome);
        if (result.Campaign is not null) live.Record(result.Campaign.Id, outcomeName, elapsed);
        switch (result.Status)
        {
            case IssueStatus.Issued:
                return new IssuedAnswer(ToResponse(result, alreadyIssued: false));
            case IssueStatus.AlreadyIssued:
                return new IssuedAnswer(ToResponse(result, alreadyIssued: true));
            case IssueStatus.NotFound:
                return CampaignsApi.NotFound();
            case IssueStatus.NotOpen:
                return NotOpen.WithOpensAt(result.OpensAt);
            case IssueStatus.Ended:
                return Ended;
            case IssueStatus.SoldOut:
                return SoldOut;
            case IssueStatus.WindowSoldOut:
                return WindowSoldOut.WithOpensAt(result.OpensAt);
            default:
                http.Response.Headers.RetryAfter = "1";
                return Unavailable;
        }
    }

    public static async Task<Ok<MyCoupons>> ListMine(ClaimsPrincipal user, ICouponStore store, CampaignCatalog catalog, CancellationToken ct)
    {
        var coupons = await store.ListUserCouponsAsync(user.UserId(), ct);
        var items = new List<MyCoupon>(coupons.Count);
        foreach (var c in coupons)
        {
            var campaign = await catalog.GetAsync(c.CampaignId, ct);
            items.Add(new MyCoupon(c.Code, c.CampaignId, campaign?.Name ?? "", c.Sequence, c.IssuedAt, campaign?.CouponValidUntil));
        }
        return TypedResults.Ok(new MyCoupons(items));
    }

    /// <summary>The outcome as a metric tag (snake_case, as the error codes).</summary>
    public static string OutcomeName(IssueStatus status) => status switch
    {
        IssueStatus.Issued => "issued",
        IssueStatus.AlreadyIssued => "already_issued",
        IssueStatus.NotFound => "not_found",
        IssueStatus.NotOpen => "not_open",
        IssueStatus.Ended => "ended",
        IssueStatus.SoldOut => "sold_out",
        IssueStatus.WindowSoldOut => "window_sold_out",
        _ => "unavailable",
    };

    private static IssueResponse ToResponse(IssueResult result, bool alreadyIssued)
    {
        var c = result.Coupon!;
        return new IssueResponse(c.Code, c.CampaignId, c.UserId, c.Sequence, c.IssuedAt, result.Campaign!.CouponValidUntil, alreadyIssued);
    }
}
