namespace CouponLive;

public static class OptionsSetup
{
    /// <summary>
    /// Binds a settings section once and validates it (data annotations) when the host starts: a bad
    /// setting stops the service with the setting's name and what is wrong with it.
    /// </summary>
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, string section) where T : class
    {
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
