using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>PostgreSQL stopped: every route, see <see cref="StoppedDependencyDrill"/>.</summary>
[Collection(nameof(FaultDrills))]
public sealed class PostgresStoppedDrills : StoppedDependencyDrill
{
    protected override ServerMode Mode => ServerMode.Production;

    protected override bool StopsRedis => false;
}
