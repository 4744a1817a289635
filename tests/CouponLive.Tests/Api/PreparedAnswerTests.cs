using System.Text;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CouponLive.Tests.Api;

/// <summary>The issue path's own answers write what the framework's results write, byte for byte.</summary>
public sealed class PreparedAnswerTests(EmbeddedServerFixture fixture) : IClassFixture<EmbeddedServerFixture>
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

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "2026-12-31T23:59:59.999+00:00")]
    public async Task Issued_answer_equals_created_and_ok_results(bool alreadyIssued, string? validUntil)
    {
        var value = new IssueResponse("가나다라마바사아자차", 7, "user <\"é\"> 한글", 12_345, new DateTimeOffset(2026, 11, 22, 9, 30, 0, 123, TimeSpan.Zero),
            validUntil is null ? null : DateTimeOffset.Parse(validUntil, System.Globalization.CultureInfo.InvariantCulture), alreadyIssued);
        IResult framework = alreadyIssued ? TypedResults.Ok(value) : TypedResults.Created((string?)null, value);
        var (expected, expectedResponse) = await RunAsync(framework);
        var (actual, response) = await RunAsync(new IssuedAnswer(value));

        Assert.Equal(expected, actual);
        Assert.Equal(alreadyIssued ? 200 : 201, response.StatusCode);
        Assert.Equal(expectedResponse.ContentType, response.ContentType);
        Assert.Equal(Encoding.UTF8.GetByteCount(actual), response.ContentLength);
        Assert.False(response.Headers.ContainsKey("Location"));
    }
}
