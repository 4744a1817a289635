using BenchmarkDotNet.Running;

namespace CouponLive.Benchmarks;

/// <summary>
/// Micro-benchmarks of the issue path's CPU parts, with allocations. Not part of the test suite:
///   dotnet run -c Release --project bench/CouponLive.Benchmarks -- --filter '*'
/// </summary>
public static class BenchmarkMain
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkMain).Assembly).Run(args);
}
