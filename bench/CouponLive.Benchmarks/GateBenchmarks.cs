using BenchmarkDotNet.Attributes;
using CouponLive.Campaigns;
using CouponLive.Issuance;
using CouponLive.Storage;

namespace CouponLive.Benchmarks;

/// <summary>The in-process gate's decisions on the paths a crowd takes most: sold out, already held, admitted.</summary>
[MemoryDiagnoser]
public class GateBenchmarks
{
    private InProcessAdmissionGate _soldOut = null!, _open = null!;
    private StoredCampaign _soldOutCampaign = null!, _openCampaign = null!;
    private string[] _users = [];
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        var now = DateTimeOffset.UtcNow;
        var window = new CampaignWindow(now.AddHours(-1), now.AddHours(1), null);
        _soldOutCampaign = new StoredCampaign(1, "sold out", 1, [window], null, null, now);
        _openCampaign = new StoredCampaign(2, "open", int.MaxValue, [window], null, null, now);
        _soldOut = new InProcessAdmissionGate(TimeProvider.System);
        _open = new InProcessAdmissionGate(TimeProvider.System);
        await _soldOut.LoadAsync(_soldOutCampaign, new GateSnapshot([new IssuedCoupon(1, "holder", 1, "x", now, 0)], 1), CancellationToken.None);
        await _open.LoadAsync(_openCampaign, new GateSnapshot([], 0), CancellationToken.None);
        _users = Enumerable.Range(0, 1 << 20).Select(i => "user-" + i).ToArray();
    }

    [Benchmark]
    public async Task<AdmissionOutcome> SoldOut() => (await _soldOut.AdmitAsync(_soldOutCampaign, "late-user", CancellationToken.None)).Outcome;

    [Benchmark]
    public async Task<AdmissionOutcome> AlreadyHeld() => (await _soldOut.AdmitAsync(_soldOutCampaign, "holder", CancellationToken.None)).Outcome;

    /// <summary>A fresh user each call (a million distinct, then they repeat as holders).</summary>
    [Benchmark]
    public async Task<AdmissionOutcome> Admit() => (await _open.AdmitAsync(_openCampaign, _users[_next++ & ((1 << 20) - 1)], CancellationToken.None)).Outcome;
}
