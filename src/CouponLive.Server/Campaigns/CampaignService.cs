using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>
/// The campaign rules behind every transport (REST, gRPC, Connect, the dashboard): create (validated,
/// stored, cached), read with committed counts and status, list, and page through the issued codes.
/// </summary>
public sealed class CampaignService(ICouponStore store, CampaignCatalog catalog, TimeProvider time)
{
    public const int DefaultPageSize = 1_000;
    public const int MaxPageSize = 10_000;
    public const int MaxListed = 200;

    public async Task<ServiceResult<CampaignResponse>> CreateAsync(CreateCampaignRequest request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!CampaignValidator.TryValidate(request, now, out var definition, out var failure)) return failure;

        var id = await store.TryCreateCampaignAsync(definition, now, ct);
        if (id is null) return new ServiceFailure(ErrorCodes.CampaignNameTaken, "name", "A campaign with this name exists.");
        var campaign = await store.GetCampaignAsync(id.Value, ct)
            ?? throw new InvalidOperationException($"Campaign {id} vanished after creation.");
        catalog.Add(campaign);
        return ToResponse(campaign, new CampaignCounts(0, new int[campaign.Windows.Count]), now);
    }

    /// <summary>The campaign by its id as the route or message carries it (text); not found for anything but a known id.</summary>
    public async Task<ServiceResult<CampaignResponse>> GetAsync(string? id, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound;
        return ToResponse(campaign, await store.GetCountsAsync(campaign.Id, ct), time.GetUtcNow());
    }

    /// <summary>The campaign with this name (normalized as at creation).</summary>
    public async Task<ServiceResult<CampaignResponse>> FindByNameAsync(string? name, CancellationToken ct)
    {
        if (!CampaignValidator.TryNormalizeName(name, out var normalized) || await store.FindCampaignIdByNameAsync(normalized, ct) is not { } id)
            return NotFound;
        return await GetAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
    }

    /// <summary>Up to <paramref name="limit"/> coupons after sequence <paramref name="afterSequence"/>.</summary>
    public async Task<ServiceResult<CouponPage>> ListCouponsAsync(string? id, long afterSequence, int limit, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound;
        if (limit is < 1 or > MaxPageSize)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "limit", $"limit must be 1 to {MaxPageSize}.");
        if (afterSequence < 0)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "after", "after must be a sequence number from a previous page's next.");

        // One row more than asked tells whether another page follows.
        var coupons = await store.ListCouponsAsync(campaign.Id, afterSequence, limit + 1, ct);
        var items = new List<CouponItem>(Math.Min(coupons.Count, limit));
        for (var i = 0; i < coupons.Count && i < limit; i++)
            items.Add(new CouponItem(coupons[i].Code, coupons[i].UserId, coupons[i].Sequence, coupons[i].IssuedAt));
        return new CouponPage(items, coupons.Count > limit ? items[^1].Sequence : null);
    }

    /// <summary>The newest campaigns (at most <see cref="MaxListed"/>) with their counts and status.</summary>
    public async Task<CampaignList> ListAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var items = new List<CampaignSummary>();
        foreach (var id in await store.ListCampaignIdsAsync(MaxListed, ct))
        {
            if (await catalog.GetAsync(id, ct) is not { } campaign) continue;
            var counts = await store.GetCountsAsync(id, ct);
            var (status, _, _) = CampaignStatus.Compute(campaign, counts, now);
            items.Add(new CampaignSummary(id, campaign.Name, campaign.TotalQuantity, counts.Issued, status, campaign.Windows[0].StartsAt, campaign.Windows[^1].EndsAt));
        }
        return new CampaignList(items);
    }

    public static ServiceFailure NotFound { get; } = new(ErrorCodes.CampaignNotFound, "", "No such campaign.");

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
