using System.Security.Claims;
using System.Text.Json;
using CouponLive.Auth;
using CouponLive.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CouponLive.Campaigns;

/// <summary>REST adapter of <see cref="CampaignService"/>: routes, query parsing, status codes.</summary>
public static class CampaignsApi
{
    public static IEndpointRouteBuilder MapCampaignsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/campaigns").WithTags("Campaigns");
        api.MapPost("/", CreateCampaign).RequireAuthorization(Roles.Admin);
        api.MapGet("/", ListCampaigns).RequireAuthorization(Roles.Admin);
        api.MapGet("/{id}", GetCampaign).RequireAuthorization();
        api.MapGet("/{id}/coupons", ListCoupons).RequireAuthorization(Roles.Admin);

        // Operating a live campaign (admin). Each answers the campaign as it is now, with its ETag; each honours If-Match.
        api.MapPatch("/{id}", UpdateCampaign).RequireAuthorization(Roles.Admin)
            .Accepts<UpdateCampaignRequest>("application/merge-patch+json", "application/json")
            .ProducesProblem(412);
        api.MapPost("/{id}/pause", PauseCampaign).RequireAuthorization(Roles.Admin);
        api.MapPost("/{id}/resume", ResumeCampaign).RequireAuthorization(Roles.Admin);
        api.MapPost("/{id}/cancel", CancelCampaign).RequireAuthorization(Roles.Admin);
        api.MapPost("/{id}/windows/current/end", EndCurrentWindow).RequireAuthorization(Roles.Admin);
        api.MapGet("/{id}/audit", ListAudit).RequireAuthorization(Roles.Admin);
        return app;
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> UpdateCampaign(
        string id, JsonElement body, [FromHeader(Name = "If-Match")] string? ifMatch, ClaimsPrincipal user, HttpResponse response,
        CampaignService campaigns, CancellationToken ct)
    {
        if (!CampaignPatchReader.TryRead(body, out var patch, out var invalid)) return Problems.Of(invalid);
        return Answer(await campaigns.UpdateAsync(id, user.UserId(), patch, ifMatch, ct), response);
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> PauseCampaign(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, ClaimsPrincipal user, HttpResponse response, CampaignService campaigns, CancellationToken ct) =>
        Answer(await campaigns.PauseAsync(id, user.UserId(), ifMatch, ct), response);

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> ResumeCampaign(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, ClaimsPrincipal user, HttpResponse response, CampaignService campaigns, CancellationToken ct) =>
        Answer(await campaigns.ResumeAsync(id, user.UserId(), ifMatch, ct), response);

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> CancelCampaign(
        string id, [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] CancelCampaignRequest? request,
        [FromHeader(Name = "If-Match")] string? ifMatch, ClaimsPrincipal user, HttpResponse response, CampaignService campaigns, CancellationToken ct) =>
        Answer(await campaigns.CancelAsync(id, user.UserId(), request?.RevokeIssued == true, ifMatch, ct), response);

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> EndCurrentWindow(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, ClaimsPrincipal user, HttpResponse response, CampaignService campaigns, CancellationToken ct) =>
        Answer(await campaigns.EndCurrentWindowAsync(id, user.UserId(), ifMatch, ct), response);

    public static async Task<Results<Ok<CampaignAudit>, ProblemHttpResult>> ListAudit(string id, CampaignService campaigns, CancellationToken ct)
    {
        var (audit, failure) = await campaigns.ListAuditAsync(id, ct);
        return audit is null ? Problems.Of(failure!) : TypedResults.Ok(audit);
    }

    private static Results<Ok<CampaignResponse>, ProblemHttpResult> Answer(ServiceResult<CampaignResponse> result, HttpResponse response)
    {
        if (result.Value is not { } campaign) return Problems.Of(result.Failure!, response);
        response.Headers.ETag = ETags.Of(campaign.Version);
        return TypedResults.Ok(campaign);
    }

    public static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateCampaign(
        CreateCampaignRequest request, CampaignService campaigns, CancellationToken ct)
    {
        var (campaign, failure) = await campaigns.CreateAsync(request, ct);
        return campaign is null ? Problems.Of(failure!) : TypedResults.Created($"/api/v1/campaigns/{campaign.Id}", campaign);
    }

    public static async Task<Ok<CampaignList>> ListCampaigns(CampaignService campaigns, CancellationToken ct) =>
        TypedResults.Ok(await campaigns.ListAsync(ct));

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetCampaign(string id, HttpResponse response, CampaignService campaigns, CancellationToken ct) =>
        Answer(await campaigns.GetAsync(id, ct), response);

    public static async Task<Results<Ok<CouponPage>, ProblemHttpResult>> ListCoupons(
        string id, string? limit, string? after, string? status, CampaignService campaigns, CancellationToken ct)
    {
        // Anything but plain digits is out of range: the service names the field and the range.
        var pageSize = limit is null ? CampaignService.DefaultPageSize : Digits.TryParse(limit, out var l) && l <= int.MaxValue ? (int)l : -1;
        var afterSequence = after is null ? 0 : Digits.TryParse(after, out var a) ? a : -1;
        var (page, failure) = await campaigns.ListCouponsAsync(id, afterSequence, pageSize, status, ct);
        return page is null ? Problems.Of(failure!) : TypedResults.Ok(page);
    }
}
