using System.IO.Pipelines;
using System.Text.Json.Nodes;
using CouponLive.Rpc;
using CouponLive.Rpc.V1;
using Google.Rpc;

namespace CouponLive.Tests.Unit;

/// <summary>The byte-level rules of the Connect adapter and the error details both protocols carry (docs/adr/0008).</summary>
public sealed class RpcWireTests
{

    [Fact]
    public async Task A_body_over_the_limit_is_not_buffered()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[100], TestContext.Current.CancellationToken);
        await pipe.Writer.WriteAsync(new byte[100], TestContext.Current.CancellationToken);
        Assert.Null(await RpcWire.ReadBodyAsync(pipe.Reader, 150, TestContext.Current.CancellationToken));

        var ok = new Pipe();
        await ok.Writer.WriteAsync(new byte[150], TestContext.Current.CancellationToken);
        await ok.Writer.CompleteAsync();
        Assert.Equal(150, (await RpcWire.ReadBodyAsync(ok.Reader, 150, TestContext.Current.CancellationToken))!.Length);
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("2500", 2500)]
    [InlineData("9999999999", 9_999_999_999)]
    public void Connect_timeouts_are_milliseconds(string text, long ms)
    {
        Assert.True(RpcWire.TryParseConnectTimeout(text, out var timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345678901")]
    [InlineData("1.5")]
    [InlineData("-5")]
    public void Malformed_connect_timeouts_are_refused(string text) =>
        Assert.False(RpcWire.TryParseConnectTimeout(text, out _));

    [Theory]
    [InlineData(RpcCode.InvalidArgument, "invalid_argument", 400)]
    [InlineData(RpcCode.FailedPrecondition, "failed_precondition", 400)]
    [InlineData(RpcCode.Unauthenticated, "unauthenticated", 401)]
    [InlineData(RpcCode.PermissionDenied, "permission_denied", 403)]
    [InlineData(RpcCode.NotFound, "not_found", 404)]
    [InlineData(RpcCode.AlreadyExists, "already_exists", 409)]
    [InlineData(RpcCode.ResourceExhausted, "resource_exhausted", 429)]
    [InlineData(RpcCode.Cancelled, "canceled", 499)]
    [InlineData(RpcCode.Internal, "internal", 500)]
    [InlineData(RpcCode.Unimplemented, "unimplemented", 501)]
    [InlineData(RpcCode.Unavailable, "unavailable", 503)]
    [InlineData(RpcCode.DeadlineExceeded, "deadline_exceeded", 504)]
    public void Connect_names_and_http_statuses_follow_the_protocol(RpcCode code, string name, int status)
    {
        Assert.Equal(name, RpcCodes.ConnectName(code));
        Assert.Equal(status, RpcCodes.ConnectHttpStatus(code));
    }

    private static readonly RpcStatusException SoldOut = new(RpcCode.ResourceExhausted, "campaign.sold_out", "All coupons are issued.",
        new Dictionary<string, string> { ["opens_at"] = "2031-01-01T00:00:00.000Z" });

    [Fact]
    public void Connect_error_json_carries_code_message_and_an_error_info_detail()
    {
        var json = JsonNode.Parse(RpcWire.ConnectErrorJson(SoldOut))!;
        Assert.Equal("resource_exhausted", json["code"]!.GetValue<string>());
        Assert.Equal("campaign.sold_out: All coupons are issued.", json["message"]!.GetValue<string>());
        var detail = json["details"]![0]!;
        Assert.Equal("google.rpc.ErrorInfo", detail["type"]!.GetValue<string>());
        var value = detail["value"]!.GetValue<string>();
        Assert.DoesNotContain('=', value); // unpadded, as the protocol recommends
        var info = ErrorInfo.Parser.ParseFrom(Convert.FromBase64String(value.PadRight((value.Length + 3) / 4 * 4, '=')));
        Assert.Equal("campaign.sold_out", info.Reason);
        Assert.Equal("couponlive", info.Domain);
        Assert.Equal("2031-01-01T00:00:00.000Z", info.Metadata["opens_at"]);
    }

    [Fact]
    public void Grpc_status_details_are_a_google_rpc_status()
    {
        var status = Google.Rpc.Status.Parser.ParseFrom(RpcWire.StatusDetails(SoldOut));
        Assert.Equal((int)RpcCode.ResourceExhausted, status.Code);
        Assert.Equal(SoldOut.StatusMessage, status.Message);
        Assert.Equal("campaign.sold_out", status.Details.Single().Unpack<ErrorInfo>().Reason);
    }

    [Theory]
    [InlineData("totalQuantity", "amount")]
    [InlineData("issueStartsAt", "issued_at")]
    [InlineData("issueEndsAt", "expires_at")]
    [InlineData("couponValidUntil", "coupon_valid_until")]
    [InlineData("windows[3].startsAt", "windows[3].starts_at")]
    [InlineData("schedule.quotaPerWindow", "schedule.quota_per_window")]
    [InlineData("benefit.value", "benefit.value")]
    public void Validation_fields_are_reported_in_proto_names(string rest, string proto) =>
        Assert.Equal(proto, CouponRpcService.ProtoFieldPath(rest));

    [Fact]
    public void Rpc_requests_map_onto_the_rest_request_the_validator_checks()
    {
        var request = new global::CouponLive.Rpc.V1.CreateCampaignRequest
        {
            Name = "봄",
            Amount = 7,
            IssuedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2031, 1, 2, 3, 4, 5, 678, TimeSpan.Zero)),
            Benefit = new global::CouponLive.Rpc.V1.Benefit { Type = "percent", Value = "12.50" },
        };
        request.Windows.Add(new WindowSpec { Quota = 3 });
        var rest = CouponRpcService.ToRestRequest(request);
        Assert.Equal("봄", rest.Name);
        Assert.Equal(7, rest.TotalQuantity);
        Assert.Equal("2031-01-02T03:04:05.6780000+00:00", rest.IssueStartsAt);
        Assert.Null(rest.IssueEndsAt);
        Assert.Equal(3, rest.Windows!.Single()!.Quota);
        Assert.Null(rest.Windows!.Single()!.StartsAt);
        Assert.Null(rest.Schedule);
        Assert.Equal(12.50m, rest.Benefit!.Value);

        var invalid = new global::CouponLive.Rpc.V1.CreateCampaignRequest { IssuedAt = new Google.Protobuf.WellKnownTypes.Timestamp { Nanos = -1 } };
        Assert.Equal("invalid", CouponRpcService.ToRestRequest(invalid).IssueStartsAt);
        Assert.Null(CouponRpcService.ToRestRequest(new global::CouponLive.Rpc.V1.CreateCampaignRequest()).Windows);
    }
}
