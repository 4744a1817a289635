using System.Globalization;
using System.Security.Claims;
using System.Text;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Rpc.V1;
using CouponLive.Storage;
using Google.Protobuf.WellKnownTypes;
using RestCreateCampaignRequest = CouponLive.Campaigns.CreateCampaignRequest;
using V1CreateCampaignRequest = CouponLive.Rpc.V1.CreateCampaignRequest;

namespace CouponLive.Rpc;

/// <summary>
/// couponlive.v1.CouponService: maps messages onto the services the REST API uses (validator, store,
/// catalog, IssuanceService) and outcomes onto status codes. No business rule lives here; the
/// transport (gRPC or Connect) is <see cref="RpcEndpoints"/>' business.
/// </summary>
public sealed class CouponRpcService(IssuanceService issuance, ICouponStore store, CampaignCatalog catalog, TimeProvider time)
{
    /// <summary>Most codes GetCampaign lists; the rest are paged through the REST route.</summary>
    public const int MaxListedCodes = CampaignsApi.MaxPageSize;

    public async Task<CreateCampaignResponse> CreateCampaignAsync(V1CreateCampaignRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsInRole(Roles.Admin))
            throw new RpcException(RpcCode.PermissionDenied, ErrorCodes.Forbidden, "Creating a campaign needs an admin token.");

        var now = time.GetUtcNow();
        var (campaign, failure) = await CampaignsApi.CreateAsync(ToRestRequest(request), store, catalog, now, ct);
        if (campaign is null)
        {
            var field = ProtoFieldPath(failure!.Field);
            var code = failure.Code == ErrorCodes.CampaignNameTaken ? RpcCode.AlreadyExists : RpcCode.InvalidArgument;
            throw new RpcException(code, failure.Code, ProtoFieldNames(failure.Message), field.Length > 0 ? new Dictionary<string, string> { ["field"] = field } : null);
        }
        return new CreateCampaignResponse { Campaign = ToCampaign(campaign, new CampaignCounts(0, new int[campaign.Windows.Count]), now) };
    }

    public async Task<GetCampaignResponse> GetCampaignAsync(GetCampaignRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        var byId = request.Id.Length > 0;
        if (byId == request.Name.Length > 0)
            throw InvalidArgument(byId ? "request.invalid" : "validation.required", "id", "Give exactly one of id and name.");

        StoredCampaign? campaign = null;
        if (byId)
        {
            if (CampaignCatalog.TryParseId(request.Id, out var id)) campaign = await catalog.GetAsync(id, ct);
        }
        else if (CampaignValidator.TryNormalizeName(request.Name, out var name) && await store.FindCampaignIdByNameAsync(name, ct) is { } id)
        {
            campaign = await catalog.GetAsync(id, ct);
        }
        if (campaign is null) throw NotFound();

        var counts = await store.GetCountsAsync(campaign.Id, ct);
        var response = new GetCampaignResponse { Campaign = ToCampaign(campaign, counts, time.GetUtcNow()) };

        // Codes are bearer secrets: listed for operators (admin, service), as the REST listing is admin-only.
        if (user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Service))
        {
            var coupons = await store.ListCouponsAsync(campaign.Id, 0, MaxListedCodes + 1, ct);
            var listed = Math.Min(coupons.Count, MaxListedCodes);
            for (var i = 0; i < listed; i++) response.CouponCodes.Add(coupons[i].Code);
            if (coupons.Count > MaxListedCodes)
            {
                response.CodesTruncated = true;
                response.CodesNextAfter = coupons[MaxListedCodes - 1].Sequence;
            }
        }
        return response;
    }

    public async Task<IssueCouponResponse> IssueCouponAsync(IssueCouponRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.CampaignId.Length == 0)
            throw InvalidArgument("validation.required", "campaign_id", "campaign_id is required.");

        // I7: a user issues for themself; only a service token acts for a named user.
        var userId = user.UserId();
        if (request.UserId.Length > 0 && request.UserId != userId)
        {
            if (!user.IsInRole(Roles.Service))
                throw new RpcException(RpcCode.PermissionDenied, ErrorCodes.Forbidden, "user_id must be empty or the token's subject; only a service token may name another user.");
            if (!Auth.PrincipalExtensions.IsAcceptableUserId(request.UserId))
                throw InvalidArgument("request.invalid", "user_id", $"user_id must be 1..{Auth.PrincipalExtensions.MaxUserIdLength} characters without control characters.");
            userId = request.UserId;
        }

        if (!CampaignCatalog.TryParseId(request.CampaignId, out var campaignId)) throw NotFound();
        var result = await issuance.IssueAsync(campaignId, userId, ct);
        return result.Status switch
        {
            IssueStatus.Issued or IssueStatus.AlreadyIssued => ToCoupon(result),
            IssueStatus.NotFound => throw NotFound(),
            IssueStatus.NotOpen => throw new RpcException(RpcCode.FailedPrecondition, ErrorCodes.NotOpen, "The campaign is not open now.", OpensAt(result)),
            IssueStatus.Ended => throw new RpcException(RpcCode.FailedPrecondition, ErrorCodes.Ended, "The campaign has ended."),
            IssueStatus.SoldOut => throw new RpcException(RpcCode.ResourceExhausted, ErrorCodes.SoldOut, "All coupons of this campaign are issued."),
            IssueStatus.WindowSoldOut => throw new RpcException(RpcCode.ResourceExhausted, ErrorCodes.WindowSoldOut, "All coupons of the current window are issued.", OpensAt(result)),
            _ => throw new RpcException(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "Issuing is briefly unavailable; retry shortly."),
        };
    }

    private static IssueCouponResponse ToCoupon(IssueResult result)
    {
        var c = result.Coupon!;
        var response = new IssueCouponResponse
        {
            Code = c.Code,
            CampaignId = c.CampaignId.ToString(CultureInfo.InvariantCulture),
            UserId = c.UserId,
            Sequence = c.Sequence,
            IssuedAt = Timestamp.FromDateTimeOffset(c.IssuedAt),
            AlreadyIssued = result.Status == IssueStatus.AlreadyIssued,
        };
        if (result.Campaign!.CouponValidUntil is { } validUntil) response.ValidUntil = Timestamp.FromDateTimeOffset(validUntil);
        return response;
    }

    private static Dictionary<string, string>? OpensAt(IssueResult result) =>
        result.OpensAt is { } at ? new() { ["opens_at"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) } : null;

    private static RpcException NotFound() => new(RpcCode.NotFound, ErrorCodes.CampaignNotFound, "No such campaign.");

    private static RpcException InvalidArgument(string reason, string field, string message) =>
        new(RpcCode.InvalidArgument, reason, message, new Dictionary<string, string> { ["field"] = field });

    /// <summary>The campaign as REST shows it (same status rules), in proto form.</summary>
    private static Campaign ToCampaign(StoredCampaign stored, CampaignCounts counts, DateTimeOffset now)
    {
        var r = CampaignsApi.ToResponse(stored, counts, now);
        var campaign = new Campaign
        {
            Id = r.Id.ToString(CultureInfo.InvariantCulture),
            Name = r.Name,
            Amount = r.TotalQuantity,
            IssuedCount = r.IssuedCount,
            Remaining = r.Remaining,
            Status = r.Status,
            IssuedAt = Timestamp.FromDateTimeOffset(stored.Windows[0].StartsAt),
            ExpiresAt = Timestamp.FromDateTimeOffset(stored.Windows[^1].EndsAt),
            CreatedAt = Timestamp.FromDateTimeOffset(r.CreatedAt),
            ServerTime = Timestamp.FromDateTimeOffset(r.ServerTime),
        };
        foreach (var w in r.Windows)
        {
            var window = new Window
            {
                Index = w.Index,
                StartsAt = Timestamp.FromDateTimeOffset(w.StartsAt),
                EndsAt = Timestamp.FromDateTimeOffset(w.EndsAt),
                IssuedCount = w.IssuedCount,
            };
            if (w.Quota is { } quota) window.Quota = quota;
            campaign.Windows.Add(window);
        }
        if (r.CurrentWindow is { } current) campaign.CurrentWindow = current.Index;
        if (r.NextWindow is { } next) campaign.NextWindow = next.Index;
        if (r.CouponValidUntil is { } validUntil) campaign.CouponValidUntil = Timestamp.FromDateTimeOffset(validUntil);
        if (r.Benefit is { } benefit) campaign.Benefit = new V1.Benefit { Type = benefit.Type, Value = benefit.Value.ToString(CultureInfo.InvariantCulture) };
        return campaign;
    }

    /// <summary>The RPC request as the REST request the validator checks: one set of rules for both APIs.</summary>
    internal static RestCreateCampaignRequest ToRestRequest(V1CreateCampaignRequest r) => new(
        r.Name,
        r.Amount,
        Text(r.IssuedAt),
        Text(r.ExpiresAt),
        r.Windows.Count == 0 ? null : r.Windows.Select(w => (WindowRequest?)new WindowRequest(Text(w.StartsAt), Text(w.EndsAt), w.HasQuota ? w.Quota : null)).ToList(),
        r.Schedule is { } s
            ? new ScheduleRequest(s.TimeZone, s.FromDate, s.ToDate, s.DailyStartTimes.ToList<string?>(), s.DurationSeconds, s.HasQuotaPerWindow ? s.QuotaPerWindow : null)
            : null,
        Text(r.CouponValidUntil),
        r.Benefit is { } b
            ? new BenefitRequest(b.Type, decimal.TryParse(b.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null)
            : null);

    // The validator reads RFC 3339 text; an out-of-range Timestamp becomes text it rejects with the field's name.
    private static string? Text(Timestamp? ts)
    {
        if (ts is null) return null;
        try
        {
            return ts.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "invalid";
        }
    }

    private static readonly (string RestName, string ProtoName)[] RenamedFields =
        [("totalQuantity", "amount"), ("issueStartsAt", "issued_at"), ("issueEndsAt", "expires_at")];

    /// <summary>A REST field path ("schedule.timeZone", "issueEndsAt") in the proto's names ("schedule.time_zone", "expires_at").</summary>
    internal static string ProtoFieldPath(string restPath)
    {
        var path = ProtoFieldNames(restPath);
        var sb = new StringBuilder(path.Length + 8);
        foreach (var c in path)
        {
            if (char.IsAsciiLetterUpper(c)) sb.Append('_').Append(char.ToLowerInvariant(c));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static string ProtoFieldNames(string text)
    {
        foreach (var (rest, proto) in RenamedFields) text = text.Replace(rest, proto, StringComparison.Ordinal);
        return text;
    }
}
