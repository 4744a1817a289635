using CouponLive.Auth;

namespace CouponLive.Codes;

public static class CodesSetup
{
    /// <summary>The coupon-code codec, keyed by Codes:Key (generated into the data folder in development).</summary>
    public static WebApplicationBuilder AddCodes(this WebApplicationBuilder builder)
    {
        var keys = ServerKeys.Of(builder);
        builder.Services.AddSingleton(new CouponCodeCodec(keys.CodeKey));
        builder.Services.AddSingleton<CouponService>();
        return builder;
    }
}
