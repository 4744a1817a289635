using System.Buffers.Text;
using System.Text;
using CouponLive.Auth;

namespace CouponLive.Tests.Unit;

/// <summary>The scheme hint read from a token's header: only a top-level "alg":"HS256" sends it to the service's own scheme.</summary>
public sealed class TrustedIssuersTests
{
    private static string Token(string headerJson) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(headerJson)) + ".e30.c2ln";

    [Theory]
    [InlineData("""{"alg":"HS256","typ":"JWT"}""", true)]
    [InlineData("""{"typ":"JWT","alg":"HS256"}""", true)]
    [InlineData("""{"alg":"RS256","typ":"JWT","kid":"k"}""", false)]
    [InlineData("""{"alg":"hs256"}""", false)]
    [InlineData("""{"x":{"alg":"HS256"},"alg":"ES256"}""", false)]
    [InlineData("""{"alg":256}""", false)]
    [InlineData("not json", false)]
    public void Only_a_top_level_HS256_alg_counts(string header, bool expected) =>
        Assert.Equal(expected, TrustedIssuers.SignedWithHmac(Token(header)));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("!!!.e30.c2ln")]
    [InlineData("nodots")]
    public void Not_a_token_is_not_HS256(string token) => Assert.False(TrustedIssuers.SignedWithHmac(token));

    [Fact]
    public void An_oversized_header_is_not_read() =>
        Assert.False(TrustedIssuers.SignedWithHmac(Token("""{"alg":"HS256","pad":" """ + new string('x', 600) + "\"}")));
}
