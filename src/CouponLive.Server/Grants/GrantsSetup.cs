namespace CouponLive.Grants;

public static class GrantsSetup
{
    public static WebApplicationBuilder AddGrants(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<GrantOptions>("Grants");
        builder.Services.AddSingleton<GrantRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GrantRunner>());
        builder.Services.AddSingleton<GrantService>();
        return builder;
    }
}
