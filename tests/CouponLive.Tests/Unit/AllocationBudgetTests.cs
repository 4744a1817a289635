using CouponLive.Codes;
using CouponLive.Http;
using CouponLive.Issuance;
using Microsoft.AspNetCore.Http;

namespace CouponLive.Tests.Unit;

/// <summary>
/// The writers on the issue path answer tens of thousands of requests a second: each has an allocation
/// budget per call (bytes on this thread, after warm-up), so a change that starts allocating fails here
/// before it shows up as GC time in a benchmark.
/// </summary>
public sealed class AllocationBudgetTests
{
    private const int Calls = 2_000;

    private static long BytesPerCall(Action call)
    {
        for (var i = 0; i < 200; i++) call(); // warm-up: JIT, thread-static buffers, lazy statics
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++) call();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
    }

    private static DefaultHttpContext Context() => new() { Response = { Body = Stream.Null }, TraceIdentifier = "0HNTEST:00000007" };

    [Fact]
    public void A_prepared_problem_is_written_without_allocating()
    {
        var http = Context();
        var soldOut = new PreparedProblem(409, ErrorCodes.SoldOut, "All coupons of this campaign are issued.");
        var bytes = BytesPerCall(() => soldOut.ExecuteAsync(http).GetAwaiter().GetResult());
        Assert.True(bytes == 0, $"{bytes} bytes per sold-out answer; budget 0");
    }

    [Fact]
    public void A_not_open_problem_allocates_only_its_opens_at_copy()
    {
        var http = Context();
        var notOpen = new PreparedProblem(409, ErrorCodes.NotOpen, "The campaign is not open now.");
        var opensAt = DateTimeOffset.UtcNow;
        var bytes = BytesPerCall(() => notOpen.WithOpensAt(opensAt).ExecuteAsync(http).GetAwaiter().GetResult());
        Assert.True(bytes <= 48, $"{bytes} bytes per not-open answer; budget 48 (the PreparedProblem carrying opensAt)");
    }

    [Fact]
    public void An_issued_answer_is_written_without_allocating()
    {
        var http = Context();
        var answer = new IssuedAnswer(new IssueResponse("가나다라마바사아자차", 7, "user-42", 12_345, DateTimeOffset.UtcNow, null, false));
        var bytes = BytesPerCall(() => answer.ExecuteAsync(http).GetAwaiter().GetResult());
        Assert.True(bytes == 0, $"{bytes} bytes per issued answer; budget 0");
    }

    [Fact]
    public void Encoding_a_code_allocates_only_the_code()
    {
        var codec = new CouponCodeCodec("DEVELOPMENT-ONLY allocation test code key"u8);
        long sequence = 0;
        var bytes = BytesPerCall(() => codec.Encode(7, ++sequence));
        Assert.True(bytes <= 48, $"{bytes} bytes per code; budget 48 (the 10-character string)");
    }

    [Fact]
    public void Checking_and_decoding_a_code_allocate_nothing()
    {
        var codec = new CouponCodeCodec("DEVELOPMENT-ONLY allocation test code key"u8);
        var code = codec.Encode(7, 123_456);
        Assert.Equal(0, BytesPerCall(() => CouponCodeCodec.HasValidCheck(code)));
        Assert.Equal(0, BytesPerCall(() => codec.TryDecode(code, out _, out _)));
    }
}
