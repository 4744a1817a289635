namespace CouponLive.Campaigns;

public static class CampaignsSetup
{
    public static WebApplicationBuilder AddCampaigns(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CampaignCatalog>();
        builder.Services.AddSingleton<CampaignService>();
        builder.Services.AddHostedService<CampaignCatalogRefresher>();
        return builder;
    }
}
