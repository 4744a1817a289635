using CouponLive.Auth;

namespace CouponLive.Events;

/// <summary>The transactional outbox's relay, its transport, its metrics and the feed.</summary>
public static class EventsSetup
{
    public static WebApplicationBuilder AddEvents(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<EventsOptions>("Events");
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<EventsOptions>, EventsOptionsValidator>();
        builder.Services.AddSingleton(sp =>
            new CloudEventJson(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventsOptions>>().Value.Source));
        builder.Services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<EventsOptions>>().Value.Transport switch
        {
            EventTransports.RabbitMq => ActivatorUtilities.CreateInstance<RabbitMqEventPublisher>(sp),
            EventTransports.Sqs => ActivatorUtilities.CreateInstance<SqsEventPublisher>(sp),
            _ => new FeedOnlyPublisher(),
        });
        builder.Services.AddSingleton<EventMetrics>();
        builder.Services.AddSingleton<EventRelay>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventRelay>());
        builder.Services.AddAuthorizationBuilder().AddPolicy(EventsApi.ReaderPolicy, p => p.RequireRole(Roles.Admin, Roles.Service));
        return builder;
    }
}
