using System.Globalization;
using System.Security.Claims;
using System.Text;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Issuance;
using CouponLive.Rpc.V1;
using Google.Protobuf.WellKnownTypes;
using RestCreateCampaignRequest = CouponLive.Campaigns.CreateCampaignRequest;
using V1CancelCampaignRequest = CouponLive.Rpc.V1.CancelCampaignRequest;
using V1CreateCampaignRequest = CouponLive.Rpc.V1.CreateCampaignRequest;

namespace CouponLive.Rpc;

/// <summary>
/// couponlive.v1.CouponService over the application services (<see cref="CampaignService"/>,
/// <see cref="IssuanceService"/>): messages in, messages out, refusals returned as <see cref="RpcStatusException"/>s
/// (never thrown) with the status code their error code stands for. No business rule lives here; the transports (gRPC and
/// Connect) only call these methods.
/// </summary>
public sealed class CouponRpcService(CampaignService campaigns, IssuanceService issuance, CouponService coupons)
{
    /// <summary>Most codes GetCampaign lists; the rest are paged through the REST route.</summary>
    public const int MaxListedCodes = CampaignService.MaxPageSize;

    public async Task<RpcOutcome<CreateCampaignResponse>> CreateCampaignAsync(V1CreateCampaignRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        if (!user.IsInRole(Roles.Admin))
            return new RpcStatusException(RpcCode.PermissionDenied, ErrorCodes.Forbidden, "Creating a campaign needs an admin token.");

        var (campaign, failure) = await campaigns.CreateAsync(ToRestRequest(request), ct);
        if (campaign is null) return Refusal(failure!);
        return new CreateCampaignResponse { Campaign = ToCampaign(campaign) };
    }

    public async Task<RpcOutcome<UpdateCampaignResponse>> UpdateCampaignAsync(V1.UpdateCampaignRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        if (AdminOnly(user, r.Id) is { } refused) return refused;
        ServiceResult<CampaignResponse> result;
        if (r.EndCurrentWindow)
        {
            if (r.HasName || r.HasAmount || r.ReplaceWindows || r.Windows.Count > 0 || r.CouponValidUntil is not null || r.ClearCouponValidUntil
                || r.Benefit is not null || r.ClearBenefit)
                return InvalidArgument("request.invalid", "end_current_window", "end_current_window is a change of its own: set no other field with it.");
            result = await campaigns.EndCurrentWindowAsync(r.Id, user.UserId(), IfMatch(r.IfMatch), ct);
        }
        else
        {
            if (r.Windows.Count > 0 && !r.ReplaceWindows)
                return InvalidArgument("request.invalid", "replace_windows", "Set replace_windows to replace the windows with the list given.");
            var patch = new CampaignPatch(
                r.HasName ? new Patched<string>(true, r.Name) : default,
                r.HasAmount ? new Patched<long?>(true, r.Amount) : default,
                r.ReplaceWindows ? new Patched<IReadOnlyList<WindowRequest?>>(true, ToWindowRequests(r.Windows)) : default,
                r.CouponValidUntil is not null ? new Patched<string>(true, Text(r.CouponValidUntil)) : r.ClearCouponValidUntil ? new Patched<string>(true, null) : default,
                r.Benefit is not null ? new Patched<BenefitRequest>(true, ToBenefitRequest(r.Benefit)) : r.ClearBenefit ? new Patched<BenefitRequest>(true, null) : default);
            result = await campaigns.UpdateAsync(r.Id, user.UserId(), patch, IfMatch(r.IfMatch), ct);
        }
        return result.Value is { } c ? new UpdateCampaignResponse { Campaign = ToCampaign(c) } : Refusal(result.Failure!);
    }

    public async Task<RpcOutcome<PauseCampaignResponse>> PauseCampaignAsync(PauseCampaignRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        if (AdminOnly(user, r.Id) is { } refused) return refused;
        var result = await campaigns.PauseAsync(r.Id, user.UserId(), IfMatch(r.IfMatch), ct);
        return result.Value is { } c ? new PauseCampaignResponse { Campaign = ToCampaign(c) } : Refusal(result.Failure!);
    }

    public async Task<RpcOutcome<ResumeCampaignResponse>> ResumeCampaignAsync(ResumeCampaignRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        if (AdminOnly(user, r.Id) is { } refused) return refused;
        var result = await campaigns.ResumeAsync(r.Id, user.UserId(), IfMatch(r.IfMatch), ct);
        return result.Value is { } c ? new ResumeCampaignResponse { Campaign = ToCampaign(c) } : Refusal(result.Failure!);
    }

    public async Task<RpcOutcome<CancelCampaignResponse>> CancelCampaignAsync(V1CancelCampaignRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        if (AdminOnly(user, r.Id) is { } refused) return refused;
        var result = await campaigns.CancelAsync(r.Id, user.UserId(), r.RevokeIssued, IfMatch(r.IfMatch), ct);
        return result.Value is { } c ? new CancelCampaignResponse { Campaign = ToCampaign(c) } : Refusal(result.Failure!);
    }

    public async Task<RpcOutcome<RedeemCouponResponse>> RedeemCouponAsync(RedeemCouponRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        var result = await coupons.RedeemAsync(r.Code, r.OrderId, user, ct);
        return result.Value is { } c ? new RedeemCouponResponse { Coupon = ToCoupon(c) } : Refusal(result.Failure!);
    }

    public async Task<RpcOutcome<GetCouponResponse>> GetCouponAsync(GetCouponRequest r, ClaimsPrincipal user, CancellationToken ct)
    {
        var result = await coupons.GetAsync(r.Code, user, ct);
        return result.Value is { } c ? new GetCouponResponse { Coupon = ToCoupon(c) } : Refusal(result.Failure!);
    }

    private static V1.Coupon ToCoupon(CouponResponse c)
    {
        var coupon = new V1.Coupon
        {
            Code = c.Code,
            CampaignId = c.CampaignId.ToString(CultureInfo.InvariantCulture),
            UserId = c.UserId,
            Sequence = c.Sequence,
            Status = c.Status,
            IssuedAt = Timestamp.FromDateTimeOffset(c.IssuedAt),
            OrderId = c.OrderId ?? "",
        };
        if (c.ValidUntil is { } validUntil) coupon.ValidUntil = Timestamp.FromDateTimeOffset(validUntil);
        if (c.RedeemedAt is { } redeemedAt) coupon.RedeemedAt = Timestamp.FromDateTimeOffset(redeemedAt);
        if (c.RedemptionCancelledAt is { } cancelledAt) coupon.RedemptionCancelledAt = Timestamp.FromDateTimeOffset(cancelledAt);
        if (c.RevokedAt is { } revokedAt) coupon.RevokedAt = Timestamp.FromDateTimeOffset(revokedAt);
        return coupon;
    }

    private static RpcStatusException? AdminOnly(ClaimsPrincipal user, string id)
    {
        if (!user.IsInRole(Roles.Admin))
            return new RpcStatusException(RpcCode.PermissionDenied, ErrorCodes.Forbidden, "Changing a campaign needs an admin token.");
        return id.Length == 0 ? InvalidArgument("validation.required", "id", "id is required.") : null;
    }

    /// <summary>The etag as Campaign.etag gives it ("\"3\""), or the bare version (3); empty: no condition.</summary>
    private static string? IfMatch(string etag) =>
        etag.Length == 0 ? null : etag.StartsWith('"') || etag == "*" ? etag : "\"" + etag + "\"";

    /// <summary>A service's refusal as the status its code stands for, with the field at fault in the proto's names.</summary>
    private static RpcStatusException Refusal(ServiceFailure failure)
    {
        var field = ProtoFieldPath(failure.Field);
        var metadata = failure.Details?.ToDictionary(d => ProtoFieldPath(d.Key), d => d.Value) ?? [];
        if (field.Length > 0) metadata["field"] = field;
        return new RpcStatusException(RpcCodes.Of(failure.Code), failure.Code, ProtoFieldNames(failure.Message), metadata.Count > 0 ? metadata : null)
        {
            RetryAfter = failure.RetryAfter,
        };
    }

    public async Task<RpcOutcome<GetCampaignResponse>> GetCampaignAsync(GetCampaignRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        var byId = request.Id.Length > 0;
        if (byId == request.Name.Length > 0)
            return InvalidArgument(byId ? "request.invalid" : "validation.required", "id", "Give exactly one of id and name.");

        var (campaign, _) = byId ? await campaigns.GetAsync(request.Id, ct) : await campaigns.FindByNameAsync(request.Name, ct);
        if (campaign is null) return NotFound;
        var response = new GetCampaignResponse { Campaign = ToCampaign(campaign) };

        // Codes are bearer secrets: listed for operators (admin, service), as the REST listing is admin-only.
        if (user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Service))
        {
            var (page, _) = await campaigns.ListCouponsAsync(request.Id.Length > 0 ? request.Id : campaign.Id.ToString(CultureInfo.InvariantCulture), 0, MaxListedCodes, null, ct);
            foreach (var c in page?.Items ?? []) response.CouponCodes.Add(c.Code);
            if (page?.Next is { } next)
            {
                response.CodesTruncated = true;
                response.CodesNextAfter = next;
            }
        }
        return response;
    }

    public async Task<RpcOutcome<IssueCouponResponse>> IssueCouponAsync(IssueCouponRequest request, ClaimsPrincipal user, CancellationToken ct)
    {
        if (request.CampaignId.Length == 0)
            return InvalidArgument("validation.required", "campaign_id", "campaign_id is required.");

        var result = await issuance.IssueAsync(request.CampaignId, user, request.UserId, ct);
        return result.Status switch
        {
            IssueStatus.Issued or IssueStatus.AlreadyIssued => ToCoupon(result),
            IssueStatus.NotFound => NotFound,
            IssueStatus.Forbidden => NotYours,
            IssueStatus.InvalidUser => InvalidArgument("request.invalid", "user_id", $"user_id must be 1..{Principals.MaxUserIdLength} characters without control characters."),
            IssueStatus.NotOpen => new RpcStatusException(RpcCode.FailedPrecondition, ErrorCodes.NotOpen, "The campaign is not open now.", OpensAt(result)),
            IssueStatus.Ended => Ended,
            IssueStatus.SoldOut => SoldOut,
            IssueStatus.WindowSoldOut => new RpcStatusException(RpcCode.ResourceExhausted, ErrorCodes.WindowSoldOut, "All coupons of the current window are issued.", OpensAt(result)),
            IssueStatus.Paused => new RpcStatusException(RpcCode.FailedPrecondition, ErrorCodes.CampaignPaused, "The campaign is paused."),
            IssueStatus.Cancelled => new RpcStatusException(RpcCode.FailedPrecondition, ErrorCodes.CampaignCancelled, "The campaign was cancelled."),
            IssueStatus.RateLimited => new RpcStatusException(RpcCode.ResourceExhausted, ErrorCodes.IssueRateLimited, "Too many issue requests from this user; retry later.")
            {
                RetryAfter = result.RetryAfter,
            },
            _ => Unavailable,
        };
    }

    /// <summary>An IssueCoupon call refused for its token (or its address's limit on those), shown in the campaign's live view as the REST route's are.</summary>
    public void RecordRejectedToken(IssueCouponRequest request, bool rateLimited) => issuance.RecordRejectedToken(request.CampaignId, rateLimited);

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
        result.OpensAt is { } at ? new() { ["opens_at"] = Instants.Text(at) } : null;

    // The refusals without per-request details, built once: the late crowd gets these.
    private static readonly RpcStatusException NotFound = new(RpcCode.NotFound, ErrorCodes.CampaignNotFound, "No such campaign.");
    private static readonly RpcStatusException NotYours = new(RpcCode.PermissionDenied, ErrorCodes.Forbidden, "user_id must be empty or the token's subject; only a service token may name another user.");
    private static readonly RpcStatusException Ended = new(RpcCode.FailedPrecondition, ErrorCodes.Ended, "The campaign has ended.");
    private static readonly RpcStatusException SoldOut = new(RpcCode.ResourceExhausted, ErrorCodes.SoldOut, "All coupons of this campaign are issued.");
    private static readonly RpcStatusException Unavailable = new(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "Issuing is briefly unavailable; retry shortly.")
    {
        RetryAfter = TimeSpan.FromSeconds(1),
    };

    private static RpcStatusException InvalidArgument(string reason, string field, string message) =>
        new(RpcCode.InvalidArgument, reason, message, new Dictionary<string, string> { ["field"] = field });

    /// <summary>The campaign as REST shows it (same status rules), in proto form.</summary>
    private static Campaign ToCampaign(CampaignResponse r)
    {
        var campaign = new Campaign
        {
            Id = r.Id.ToString(CultureInfo.InvariantCulture),
            Name = r.Name,
            Amount = r.TotalQuantity,
            IssuedCount = r.IssuedCount,
            Remaining = r.Remaining,
            Status = r.Status,
            IssuedAt = Timestamp.FromDateTimeOffset(r.Windows[0].StartsAt),
            ExpiresAt = Timestamp.FromDateTimeOffset(r.Windows[^1].EndsAt),
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
        campaign.Etag = ETags.Of(r.Version);
        if (r.PausedAt is { } pausedAt) campaign.PausedAt = Timestamp.FromDateTimeOffset(pausedAt);
        if (r.CancelledAt is { } cancelledAt) campaign.CancelledAt = Timestamp.FromDateTimeOffset(cancelledAt);
        campaign.IssuedRevoked = r.IssuedRevoked == true;
        campaign.RedeemedCount = r.RedeemedCount;
        return campaign;
    }

    /// <summary>The RPC request as the REST request the validator checks: one set of rules for both APIs.</summary>
    internal static RestCreateCampaignRequest ToRestRequest(V1CreateCampaignRequest r) => new(
        r.Name,
        r.Amount,
        Text(r.IssuedAt),
        Text(r.ExpiresAt),
        r.Windows.Count == 0 ? null : ToWindowRequests(r.Windows),
        r.Schedule is { } s
            ? new ScheduleRequest(s.TimeZone, s.FromDate, s.ToDate, s.DailyStartTimes.ToList<string?>(), s.DurationSeconds, s.HasQuotaPerWindow ? s.QuotaPerWindow : null)
            : null,
        Text(r.CouponValidUntil),
        r.Benefit is { } b ? ToBenefitRequest(b) : null);

    private static List<WindowRequest?> ToWindowRequests(IEnumerable<WindowSpec> windows) =>
        windows.Select(w => (WindowRequest?)new WindowRequest(Text(w.StartsAt), Text(w.EndsAt), w.HasQuota ? w.Quota : null)).ToList();

    private static BenefitRequest ToBenefitRequest(V1.Benefit b) =>
        new(b.Type, b.Value.All(c => char.IsAsciiDigit(c) || c == '.')
            && decimal.TryParse(b.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v) ? v : null);

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
