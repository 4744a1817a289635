using BenchmarkDotNet.Attributes;
using CouponLive.Codes;

namespace CouponLive.Benchmarks;

/// <summary>Coupon code: the keyed bijection and check character, computed on every success answer.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly CouponCodeCodec _codec = new("DEVELOPMENT-ONLY benchmark code key"u8);
    private string _code = "";
    private long _sequence;

    [GlobalSetup]
    public void Setup() => _code = _codec.Encode(7, 123_456);

    [Benchmark]
    public string Encode() => _codec.Encode(7, ++_sequence);

    [Benchmark]
    public bool Decode() => _codec.TryDecode(_code, out _, out _);

    [Benchmark]
    public bool CheckCharacter() => CouponCodeCodec.HasValidCheck(_code);
}
