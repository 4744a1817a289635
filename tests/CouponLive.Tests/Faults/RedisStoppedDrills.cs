using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>Redis stopped (the SQL store is PostgreSQL): every route, see <see cref="StoppedDependencyDrill"/>.</summary>
[Collection(nameof(FaultDrills))]
public sealed class RedisStoppedDrills : StoppedDependencyDrill
{
    protected override ServerMode Mode => ServerMode.Production;

    protected override bool StopsRedis => true;
}
