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
        app.MapPost("/api/v1/coupons/validate", Validate).WithTags("Coupons").RequireAuthorization();
        return app;
    }

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
