using CouponLive.Auth;
using CouponLive.Http;
using Microsoft.AspNetCore.Http.HttpResults;

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
        return app;
    }

    public static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateCampaign(
        CreateCampaignRequest request, CampaignService campaigns, CancellationToken ct)
    {
        var (campaign, failure) = await campaigns.CreateAsync(request, ct);
        return campaign is null ? Problems.Of(failure!) : TypedResults.Created($"/api/v1/campaigns/{campaign.Id}", campaign);
    }

    public static async Task<Ok<CampaignList>> ListCampaigns(CampaignService campaigns, CancellationToken ct) =>
        TypedResults.Ok(await campaigns.ListAsync(ct));

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetCampaign(string id, CampaignService campaigns, CancellationToken ct)
    {
        var (campaign, failure) = await campaigns.GetAsync(id, ct);
        return campaign is null ? Problems.Of(failure!) : TypedResults.Ok(campaign);
    }

    public static async Task<Results<Ok<CouponPage>, ProblemHttpResult>> ListCoupons(
        string id, string? limit, string? after, CampaignService campaigns, CancellationToken ct)
    {
        // Anything but plain digits is out of range: the service names the field and the range.
        var pageSize = limit is null ? CampaignService.DefaultPageSize : Digits.TryParse(limit, out var l) && l <= int.MaxValue ? (int)l : -1;
        var afterSequence = after is null ? 0 : Digits.TryParse(after, out var a) ? a : -1;
        var (page, failure) = await campaigns.ListCouponsAsync(id, afterSequence, pageSize, ct);
        return page is null ? Problems.Of(failure!) : TypedResults.Ok(page);
    }
}
