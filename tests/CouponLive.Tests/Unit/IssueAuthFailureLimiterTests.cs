using System.Net;
using CouponLive.Limits;

namespace CouponLive.Tests.Unit;

/// <summary>The bucket an address's failed issue requests go to: IPv4 as it is, IPv6 by the /64 one host may roam.</summary>
public sealed class IssueAuthFailureLimiterTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    public void An_address_counts_in_its_bucket(string address, string key) =>
        Assert.Equal(key, IssueAuthFailureLimiter.AddressKey(IPAddress.Parse(address)));

    [Fact]
    public void Addresses_of_one_IPv6_host_share_a_bucket_and_neighbouring_networks_do_not()
    {
        Assert.Equal(IssueAuthFailureLimiter.AddressKey(IPAddress.Parse("2001:db8:0:7::1")), IssueAuthFailureLimiter.AddressKey(IPAddress.Parse("2001:db8:0:7:ffff::2")));
        Assert.NotEqual(IssueAuthFailureLimiter.AddressKey(IPAddress.Parse("2001:db8:0:7::1")), IssueAuthFailureLimiter.AddressKey(IPAddress.Parse("2001:db8:0:8::1")));
        Assert.Equal("", IssueAuthFailureLimiter.AddressKey(null));
    }
}
