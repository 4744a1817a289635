using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Codes;

public static class CouponsApi
{
    public static IEndpointRouteBuilder MapCouponsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/coupons").WithTags("Coupons").RequireAuthorization();
        api.MapPost("/validate", Validate);
        api.MapGet("/{code}", GetCoupon);
        api.MapPost("/{code}/redeem", Redeem);
        api.MapPost("/{code}/cancel-redemption", CancelRedemption);
        api.MapPost("/{code}/revoke", Revoke).RequireAuthorization(Roles.Admin);
        return app;
    }

    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> GetCoupon(string code, ClaimsPrincipal user, CouponService coupons, CancellationToken ct) =>
        Answer(await coupons.GetAsync(code, user, ct));

    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> Redeem(
        string code, RedeemRequest request, ClaimsPrincipal user, CouponService coupons, CancellationToken ct) =>
        Answer(await coupons.RedeemAsync(code, request.OrderId, user, ct));

    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> CancelRedemption(
        string code, RedeemRequest request, ClaimsPrincipal user, CouponService coupons, CancellationToken ct) =>
        Answer(await coupons.CancelRedemptionAsync(code, request.OrderId, user, ct));

    public static async Task<Results<Ok<CouponResponse>, ProblemHttpResult>> Revoke(string code, ClaimsPrincipal user, CouponService coupons, CancellationToken ct) =>
        Answer(await coupons.RevokeAsync(code, user, ct));

    private static Results<Ok<CouponResponse>, ProblemHttpResult> Answer(ServiceResult<CouponResponse> result) =>
        result.Value is { } coupon ? TypedResults.Ok(coupon) : Problems.Of(result.Failure!);

    public static async Task<Results<Ok<ValidateCodeResponse>, ProblemHttpResult>> Validate(
        ValidateCodeRequest request, ClaimsPrincipal user, CouponCodeCodec codec, ICouponStore store, CancellationToken ct)
    {
        if (request.Code is null || request.Code.Length > 64)
            return Problems.Of(400, ErrorCodes.InvalidCode, "code is required (at most 64 characters).", "code");
        if (!CouponCodeCodec.TryNormalize(request.Code, out var code))
            return TypedResults.Ok(new ValidateCodeResponse(request.Code, false));
        var checkValid = CouponCodeCodec.HasValidCheck(code);
        if (!checkValid || !user.IsInRole(Roles.Admin))
            return TypedResults.Ok(new ValidateCodeResponse(code, checkValid));

        if (!codec.TryDecode(code, out var campaignId, out var sequence))
            return TypedResults.Ok(new ValidateCodeResponse(code, true, Issued: false));
        var coupon = await store.FindCouponAsync(campaignId, sequence, ct);
        return coupon is null || coupon.Code != code
            ? TypedResults.Ok(new ValidateCodeResponse(code, true, false, campaignId, sequence))
            : TypedResults.Ok(new ValidateCodeResponse(code, true, true, campaignId, sequence, coupon.UserId, coupon.IssuedAt));
    }
}
