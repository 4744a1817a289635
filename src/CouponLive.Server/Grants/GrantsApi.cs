using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CouponLive.Grants;

/// <summary>REST adapter of <see cref="GrantService"/> (admin).</summary>
public static class GrantsApi
{
    /// <summary>100,000 user ids of up to 128 characters, JSON-escaped, fit well below this.</summary>
    public const long MaxGrantBodyBytes = 32 * 1024 * 1024;

    public static IEndpointRouteBuilder MapGrantsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/campaigns/{id}/grants").WithTags("Grants").RequireAuthorization(Roles.Admin);
        api.MapPost("/", CreateGrant).WithMetadata(new RequestSizeLimitAttribute(MaxGrantBodyBytes)).Produces<GrantResponse>(202);
        api.MapGet("/", ListGrants);
        api.MapGet("/{grantId}", GetGrant);
        return app;
    }

    public static async Task<Results<Accepted<GrantResponse>, Ok<GrantResponse>, ProblemHttpResult>> CreateGrant(
        string id, GrantRequest request, ClaimsPrincipal user, GrantService grants, CancellationToken ct)
    {
        var (created, failure) = await grants.CreateAsync(id, user.UserId(), request, ct);
        if (created is null) return Problems.Of(failure!);
        return created.Created
            ? TypedResults.Accepted($"/api/v1/campaigns/{id}/grants/{Uri.EscapeDataString(created.Grant.GrantId)}", created.Grant)
            : TypedResults.Ok(created.Grant);
    }

    public static async Task<Results<Ok<GrantList>, ProblemHttpResult>> ListGrants(string id, GrantService grants, CancellationToken ct)
    {
        var (list, failure) = await grants.ListAsync(id, ct);
        return list is null ? Problems.Of(failure!) : TypedResults.Ok(list);
    }

    public static async Task<Results<Ok<GrantResponse>, ProblemHttpResult>> GetGrant(
        string id, string grantId, string? limit, string? after, GrantService grants, CancellationToken ct)
    {
        var pageSize = limit is null ? GrantService.DefaultPageSize : Digits.TryParse(limit, out var l) && l <= int.MaxValue ? (int)l : -1;
        var afterPosition = after is null ? -1 : Digits.TryParse(after, out var a) && a < int.MaxValue ? (int)a : -2;
        var (grant, failure) = await grants.GetAsync(id, grantId, afterPosition, pageSize, ct);
        return grant is null ? Problems.Of(failure!) : TypedResults.Ok(grant);
    }
}
