using Microsoft.Extensions.DependencyInjection;

namespace CouponLive.Tests.Infrastructure;

public static class ServiceWrapping
{
    /// <summary>Replaces the last registration of <typeparamref name="T"/> by <paramref name="wrap"/> of what it made.</summary>
    public static IServiceCollection Wrap<T>(this IServiceCollection services, Func<T, T> wrap) where T : class
    {
        var original = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(original);
        services.AddSingleton(sp => wrap((T)(original.ImplementationInstance
            ?? original.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, original.ImplementationType!))));
        return services;
    }

    /// <summary>The store and the gate of a server, wrapped for <paramref name="plan"/>.</summary>
    public static Action<IServiceCollection> Faults(FaultPlan plan) => services => services
        .Wrap<CouponLive.Storage.ICouponStore>(s => FaultProxy.Wrap(s, plan))
        .Wrap<CouponLive.Issuance.IAdmissionGate>(g => FaultProxy.Wrap(g, plan));
}
