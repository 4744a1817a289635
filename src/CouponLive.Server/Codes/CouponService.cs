using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Diagnostics;
using CouponLive.Storage;

namespace CouponLive.Codes;

/// <summary>
/// The use of an issued coupon behind every transport: read it, redeem it exactly once, cancel a redemption,
/// revoke it. Redemptions are rare next to issue requests and go straight to the store, where one conditional
/// statement decides between concurrent callers; the issue path does not change.
/// </summary>
public sealed class CouponService(ICouponStore store, CampaignCatalog catalog, CouponCodeCodec codec, CouponMetrics metrics, TimeProvider time)
{
    public const int MaxOrderIdLength = 100;

    public async Task<ServiceResult<CouponResponse>> GetAsync(string? code, ClaimsPrincipal caller, CancellationToken ct)
    {
        var (found, failure) = await FindAsync(code, caller, ct);
        return found is null ? failure! : Response(found.Coupon, found.Campaign);
    }

    /// <summary>Redeems the coupon for the order; the same order again answers the same redemption (a retry is safe).</summary>
    public async Task<ServiceResult<CouponResponse>> RedeemAsync(string? code, string? orderId, ClaimsPrincipal caller, CancellationToken ct)
    {
        var result = await RedeemCoreAsync(code, orderId, caller, ct);
        Count("redeem", result);
        return result;
    }

    private async Task<ServiceResult<CouponResponse>> RedeemCoreAsync(string? code, string? orderId, ClaimsPrincipal caller, CancellationToken ct)
    {
        if (CheckOrderId(orderId) is { } invalid) return invalid;
        var (found, failure) = await FindAsync(code, caller, ct);
        if (found is null) return failure!;
        var (coupon, campaign) = found;
        if (Refusal(coupon, campaign, orderId!) is { } refused) return refused;

        var change = await store.RedeemCouponAsync(coupon.CampaignId, coupon.Sequence, orderId!, time.GetUtcNow(), ct);
        if (change.Coupon is null) return NotFound;
        // Lost to a concurrent caller (or to a revocation): judged by the row as the winner left it.
        if (!change.Changed && Refusal(change.Coupon, campaign, orderId!) is { } lost) return lost;
        return Response(change.Coupon, campaign);
    }

    /// <summary>Takes back the redemption of <paramref name="orderId"/> (the order was cancelled); nothing to take back answers the coupon as it is.</summary>
    public async Task<ServiceResult<CouponResponse>> CancelRedemptionAsync(string? code, string? orderId, ClaimsPrincipal caller, CancellationToken ct)
    {
        var result = await CancelRedemptionCoreAsync(code, orderId, caller, ct);
        Count("cancel_redemption", result);
        return result;
    }

    private async Task<ServiceResult<CouponResponse>> CancelRedemptionCoreAsync(string? code, string? orderId, ClaimsPrincipal caller, CancellationToken ct)
    {
        if (CheckOrderId(orderId) is { } invalid) return invalid;
        var (found, failure) = await FindAsync(code, caller, ct);
        if (found is null) return failure!;
        var (coupon, campaign) = found;
        if (coupon.OrderId is not null && coupon.OrderId != orderId) return OrderMismatch;

        var change = await store.CancelRedemptionAsync(coupon.CampaignId, coupon.Sequence, orderId!, time.GetUtcNow(), ct);
        if (change.Coupon is null) return NotFound;
        if (!change.Changed && change.Coupon.OrderId is not null && change.Coupon.OrderId != orderId) return OrderMismatch;
        return Response(change.Coupon, campaign);
    }

    /// <summary>Revokes the coupon for good (admin); revoking it again answers the same.</summary>
    public async Task<ServiceResult<CouponResponse>> RevokeAsync(string? code, ClaimsPrincipal caller, CancellationToken ct)
    {
        var (found, failure) = await FindAsync(code, caller, ct);
        if (found is null)
        {
            Count("revoke", failure!);
            return failure!;
        }
        var change = await store.RevokeCouponAsync(found.Coupon.CampaignId, found.Coupon.Sequence, time.GetUtcNow(), ct);
        ServiceResult<CouponResponse> result = change.Coupon is null ? NotFound : Response(change.Coupon, found.Campaign);
        Count("revoke", result);
        return result;
    }

    /// <summary>Why the coupon cannot be redeemed for <paramref name="orderId"/> now, or null (including when it already is, for that order).</summary>
    private ServiceFailure? Refusal(IssuedCoupon coupon, StoredCampaign? campaign, string orderId) =>
        CouponStatus.Of(coupon, campaign, time.GetUtcNow()) switch
        {
            CouponStatus.Revoked => new ServiceFailure(ErrorCodes.CouponRevoked, "code", "The coupon was revoked."),
            CouponStatus.Redeemed when coupon.OrderId == orderId => null,
            CouponStatus.Redeemed => new ServiceFailure(ErrorCodes.AlreadyRedeemed, "orderId", "The coupon was redeemed for another order.")
            {
                Details = new Dictionary<string, string> { ["redeemedAt"] = Instants.Text(coupon.RedeemedAt!.Value) },
            },
            CouponStatus.Expired => new ServiceFailure(ErrorCodes.CouponExpired, "code", $"The coupon expired at {Instants.Text(campaign!.CouponValidUntil!.Value)}."),
            _ => null,
        };

    /// <summary>
    /// The coupon of a code the caller may see: its holder, or a service or admin token (a checkout system acting for
    /// its customer). A code failing its check character is refused before any lookup.
    /// </summary>
    private async Task<ServiceResult<Found>> FindAsync(string? code, ClaimsPrincipal caller, CancellationToken ct)
    {
        if (code is null || code.Length > 64 || !CouponCodeCodec.TryNormalize(code, out var normalized) || !CouponCodeCodec.HasValidCheck(normalized))
            return new ServiceFailure(ErrorCodes.InvalidCode, "code", "Not a coupon code: its check character does not match (a typo?).");
        if (!codec.TryDecode(normalized, out var campaignId, out var sequence)) return NotFound;
        var coupon = await store.FindCouponAsync(campaignId, sequence, ct);
        if (coupon is null || coupon.Code != normalized) return NotFound;
        if (coupon.UserId != caller.UserId() && !caller.IsInRole(Roles.Service) && !caller.IsInRole(Roles.Admin))
            return new ServiceFailure(ErrorCodes.NotHolder, "code", "Only the coupon's holder, or a service or admin token, may use it.");
        return new Found(coupon, await catalog.GetAsync(campaignId, ct));
    }

    private static ServiceFailure? CheckOrderId(string? orderId) =>
        orderId is { Length: >= 1 and <= MaxOrderIdLength } && !orderId.Any(char.IsControl) && !string.IsNullOrWhiteSpace(orderId)
            ? null
            : new ServiceFailure(ErrorCodes.InvalidOrderId, "orderId", $"orderId is required: 1..{MaxOrderIdLength} printable characters.");

    private CouponResponse Response(IssuedCoupon c, StoredCampaign? campaign) => new(
        c.Code, c.CampaignId, c.UserId, c.Sequence, CouponStatus.Of(c, campaign, time.GetUtcNow()), c.IssuedAt, campaign?.CouponValidUntil,
        c.OrderId, c.RedeemedAt, c.RedemptionCancelledAt, c.RevokedAt);

    private void Count(string action, ServiceResult<CouponResponse> result) =>
        metrics.Redemptions.Add(1, CouponMetrics.Tag("action", action),
            CouponMetrics.Tag("outcome", result.Value is { } v ? v.Status : result.Failure!.Code.Replace("coupon.", "", StringComparison.Ordinal)));

    private static readonly ServiceFailure NotFound = new(ErrorCodes.CouponNotFound, "code", "No coupon was issued with this code.");

    private static readonly ServiceFailure OrderMismatch = new(ErrorCodes.OrderMismatch, "orderId", "The coupon is redeemed for another order.");

    private sealed record Found(IssuedCoupon Coupon, StoredCampaign? Campaign);
}
