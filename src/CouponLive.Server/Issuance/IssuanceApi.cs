using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Issuance;

/// <summary>REST adapter of <see cref="IssuanceService"/>: the issue route (answers pre-encoded, the crowd's hot path) and the caller's coupons.</summary>
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
    private static readonly PreparedProblem Paused = new(409, ErrorCodes.CampaignPaused, "The campaign is paused; issuing resumes when an operator resumes it.");
    private static readonly PreparedProblem Cancelled = new(409, ErrorCodes.CampaignCancelled, "The campaign was cancelled.");
    private static readonly PreparedProblem RateLimited = new(429, ErrorCodes.IssueRateLimited, "Too many issue requests from this user; retry later.");

    public static async Task<Results<IssuedAnswer, ProblemHttpResult, PreparedProblem>> Issue(
        string id, ClaimsPrincipal user, HttpContext http, IssuanceService issuance, CancellationToken ct)
    {
        var result = await issuance.IssueAsync(id, user, forUser: null, ct);
        switch (result.Status)
        {
            case IssueStatus.Issued:
                return new IssuedAnswer(ToResponse(result, alreadyIssued: false));
            case IssueStatus.AlreadyIssued:
                return new IssuedAnswer(ToResponse(result, alreadyIssued: true));
            case IssueStatus.NotFound:
                return Problems.Of(CampaignService.NotFound);
            case IssueStatus.NotOpen:
                return NotOpen.WithOpensAt(result.OpensAt);
            case IssueStatus.Ended:
                return Ended;
            case IssueStatus.SoldOut:
                return SoldOut;
            case IssueStatus.WindowSoldOut:
                return WindowSoldOut.WithOpensAt(result.OpensAt);
            case IssueStatus.Paused:
                return Paused;
            case IssueStatus.Cancelled:
                return Cancelled;
            case IssueStatus.RateLimited:
                Problems.SetRetryAfter(http.Response, result.RetryAfter ?? TimeSpan.FromSeconds(1));
                return RateLimited;
            default:
                http.Response.Headers.RetryAfter = "1";
                return Unavailable;
        }
    }

    public static async Task<Ok<MyCoupons>> ListMine(ClaimsPrincipal user, IssuanceService issuance, CancellationToken ct) =>
        TypedResults.Ok(await issuance.ListCouponsOfAsync(user.UserId(), ct));

    private static IssueResponse ToResponse(IssueResult result, bool alreadyIssued)
    {
        var c = result.Coupon!;
        return new IssueResponse(c.Code, c.CampaignId, c.UserId, c.Sequence, c.IssuedAt, result.Campaign!.CouponValidUntil, alreadyIssued);
    }
}
