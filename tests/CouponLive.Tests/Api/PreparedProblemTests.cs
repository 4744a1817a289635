using System.Text;
using CouponLive.Http;
using CouponLive.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CouponLive.Tests.Api;

/// <summary>The issue path's pre-encoded problems write what the ProblemDetails service writes, byte for byte.</summary>
public sealed class PreparedProblemTests(EmbeddedServerFixture fixture) : IClassFixture<EmbeddedServerFixture>
{
    private async Task<(string Body, HttpResponse Response)> RunAsync(IResult result)
    {
        var http = new DefaultHttpContext { RequestServices = fixture.Server.Services, TraceIdentifier = "0HNTEST:00000007" };
        var body = new MemoryStream();
        http.Response.Body = body;
        await result.ExecuteAsync(http);
        await http.Response.Body.FlushAsync();
        return (Encoding.UTF8.GetString(body.ToArray()), http.Response);
    }

    public static TheoryData<int, string, string, bool> Problems() => new()
    {
        { 409, ErrorCodes.SoldOut, "All coupons of this campaign are issued.", false },
        { 409, ErrorCodes.NotOpen, "The campaign is not open now.", true },
        { 409, ErrorCodes.WindowSoldOut, "All coupons of the current window are issued.", true },
        { 503, ErrorCodes.ServiceUnavailable, "Issuing is briefly unavailable; retry shortly.", false },
        { 409, "odd.<code>&\"", "Détail with \u2028 and 한글 + \"quotes\"", true },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public async Task Prepared_body_equals_the_problem_details_service_body(int status, string code, string detail, bool withOpensAt)
    {
        DateTimeOffset? opensAt = withOpensAt ? new DateTimeOffset(2026, 11, 22, 9, 30, 0, 123, TimeSpan.Zero) : null;
        var (expected, _) = await RunAsync(CouponLive.Http.Problems.Of(status, code, detail, opensAt: opensAt));
        var (actual, response) = await RunAsync(new PreparedProblem(status, code, detail).WithOpensAt(opensAt));

        Assert.Equal(expected, actual);
        Assert.Contains("\"traceId\":\"0HNTEST:00000007\"", actual);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal(Encoding.UTF8.GetByteCount(actual), response.ContentLength);
    }
}
