using System.Globalization;
using CouponLive.Auth;
using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Campaigns;

public sealed record WindowResponse(int Index, DateTimeOffset StartsAt, DateTimeOffset EndsAt, int? Quota, int IssuedCount);

public sealed record CampaignResponse(
    long Id,
    string Name,
    int TotalQuantity,
    int IssuedCount,
    int Remaining,
    string Status,
    IReadOnlyList<WindowResponse> Windows,
    WindowResponse? CurrentWindow,
    WindowResponse? NextWindow,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit,
    DateTimeOffset CreatedAt,
    DateTimeOffset ServerTime);

public sealed record CouponItem(string Code, string UserId, long Sequence, DateTimeOffset IssuedAt);
public sealed record CouponPage(IReadOnlyList<CouponItem> Items, long? Next);

public static class CampaignsApi
{
    public const int DefaultPageSize = 1_000;
    public const int MaxPageSize = 10_000;

    public static IEndpointRouteBuilder MapCampaignsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/campaigns").WithTags("Campaigns");
        api.MapPost("/", CreateCampaign).RequireAuthorization(Roles.Admin);
        api.MapGet("/{id}", GetCampaign).RequireAuthorization();
        api.MapGet("/{id}/coupons", ListCoupons).RequireAuthorization(Roles.Admin);
        return app;
    }

    public static async Task<Results<Created<CampaignResponse>, ProblemHttpResult>> CreateCampaign(
        CreateCampaignRequest request, ICouponStore store, CampaignCatalog catalog, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (campaign, failure) = await CreateAsync(request, store, catalog, now, ct);
        if (campaign is null)
            return Problems.Of(failure!.Code == ErrorCodes.CampaignNameTaken ? 409 : 400, failure.Code, failure.Message, failure.Field);
        var counts = new CampaignCounts(0, new int[campaign.Windows.Count]);
        return TypedResults.Created($"/api/v1/campaigns/{campaign.Id}", ToResponse(campaign, counts, now));
    }

    /// <summary>
    /// Validates, stores and caches a new campaign: the one creation path of REST and RPC.
    /// A taken name comes back as the failure <see cref="ErrorCodes.CampaignNameTaken"/>.
    /// </summary>
    public static async Task<(StoredCampaign? Campaign, ValidationFailure? Failure)> CreateAsync(
        CreateCampaignRequest request, ICouponStore store, CampaignCatalog catalog, DateTimeOffset now, CancellationToken ct)
    {
        if (!CampaignValidator.TryValidate(request, now, out var definition, out var failure))
            return (null, failure);

        var id = await store.TryCreateCampaignAsync(definition, now, ct);
        if (id is null)
            return (null, new ValidationFailure(ErrorCodes.CampaignNameTaken, "name", "A campaign with this name exists."));
        var campaign = await store.GetCampaignAsync(id.Value, ct)
            ?? throw new InvalidOperationException($"Campaign {id} vanished after creation.");
        catalog.Add(campaign);
        return (campaign, null);
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetCampaign(
        string id, ICouponStore store, CampaignCatalog catalog, TimeProvider time, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound();
        var counts = await store.GetCountsAsync(campaign.Id, ct);
        return TypedResults.Ok(ToResponse(campaign, counts, time.GetUtcNow()));
    }

    public static async Task<Results<Ok<CouponPage>, ProblemHttpResult>> ListCoupons(
        string id, string? limit, string? after, ICouponStore store, CampaignCatalog catalog, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound();

        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
            return Problems.Of(400, ErrorCodes.InvalidPaging, $"limit must be 1 to {MaxPageSize}.", "limit");
        long afterSequence = 0;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterSequence))
            return Problems.Of(400, ErrorCodes.InvalidPaging, "after must be a sequence number from a previous page's next.", "after");

        var coupons = await store.ListCouponsAsync(campaign.Id, afterSequence, pageSize, ct);
        var items = coupons.Select(c => new CouponItem(c.Code, c.UserId, c.Sequence, c.IssuedAt)).ToList();
        long? next = items.Count == pageSize ? items[^1].Sequence : null;
        return TypedResults.Ok(new CouponPage(items, next));
    }

    internal static ProblemHttpResult NotFound() => Problems.Of(404, ErrorCodes.CampaignNotFound, "No such campaign.");

    public static CampaignResponse ToResponse(StoredCampaign campaign, CampaignCounts counts, DateTimeOffset now)
    {
        var windows = campaign.Windows
            .Select((w, i) => new WindowResponse(i, w.StartsAt, w.EndsAt, w.Quota, i < counts.IssuedPerWindow.Count ? counts.IssuedPerWindow[i] : 0))
            .ToList();
        var (status, current, next) = CampaignStatus.Compute(campaign, counts, now);
        return new CampaignResponse(
            campaign.Id,
            campaign.Name,
            campaign.TotalQuantity,
            counts.Issued,
            campaign.TotalQuantity - counts.Issued,
            status,
            windows,
            current is int c ? windows[c] : null,
            next is int n && n >= 0 ? windows[n] : null,
            campaign.CouponValidUntil,
            campaign.Benefit,
            campaign.CreatedAt,
            now);
    }
}
