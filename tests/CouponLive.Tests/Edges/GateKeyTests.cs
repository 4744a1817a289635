using System.Net;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Edges;

/// <summary>
/// A campaign's gate state lives in five Redis keys. Any one of them lost mid-sale (evicted under memory pressure,
/// deleted by hand, expired apart) must never be answered from: without its windows everyone would hear "ended" in an
/// open sale, without its holders winners would be admitted twice, without its counts a window's quota would start
/// over, and without its outbox a dead process's admissions would be stranded. The scripts see the key missing, drop
/// the state, and it is rebuilt from the store.
/// </summary>
public sealed class GateKeyTests() : EdgeServer(ServerMode.Production)
{
    [Theory]
    [InlineData("windows")]
    [InlineData("holders")]
    [InlineData("wcount")]
    [InlineData("outbox")]
    public async Task A_lost_gate_key_mid_sale_is_rebuilt_from_the_store_and_the_sale_sells_exactly(string part)
    {
        var id = (await Server.CreateCampaignAsync(100))["id"]!.GetValue<long>();
        var winners = Enumerable.Range(0, 30).Select(i => $"w{i}-{id}").ToList();
        var codes = (await CrowdAsync(id, winners)).Select(a => a.Code).ToList();
        var rebuilds = Plan.Calls(SnapshotCall);

        Assert.Equal("1", (await RedisAsync("DEL", GateKey(id, part))).Trim());

        // Winners get their own coupon back; the rest of the crowd buys exactly what is left.
        var again = await CrowdAsync(id, winners);
        Assert.All(again, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(codes, again.Select(a => a.Code));
        var rest = await CrowdAsync(id, Enumerable.Range(0, 150).Select(i => $"r{i}-{id}"));
        Assert.Equal(70, rest.Count(a => a.Status == HttpStatusCode.Created));
        Assert.Equal(80, rest.Count(a => a.Code == "campaign.sold_out"));
        Assert.True(Plan.Calls(SnapshotCall) > rebuilds, $"the gate should have been rebuilt after its {part} key went");
        Assert.Equal("1", (await RedisAsync("EXISTS", GateKey(id, part))).Trim());
        var report = await AssertInvariantsAsync(id);
        Assert.True(report.SoldExactly, report.ToString());
    }
}
