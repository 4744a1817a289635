using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Faults;

/// <summary>MariaDB stopped (the MySQL store): every route, see <see cref="StoppedDependencyDrill"/>.</summary>
[Collection(nameof(FaultDrills))]
public sealed class MySqlStoppedDrills : StoppedDependencyDrill
{
    protected override ServerMode Mode => ServerMode.ProductionMySql;

    protected override bool StopsRedis => false;
}
