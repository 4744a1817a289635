namespace CouponLive.Tests.Faults;

/// <summary>These drills stop, flush and kill shared services: they run alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(FaultDrills), DisableParallelization = true)]
public sealed class FaultDrills;
