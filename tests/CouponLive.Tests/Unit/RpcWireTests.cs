using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text.Json.Nodes;
using CouponLive.Rpc;
using CouponLive.Rpc.V1;
using Google.Protobuf;
using Google.Rpc;

namespace CouponLive.Tests.Unit;

/// <summary>The byte-level rules of the hand-written gRPC and Connect adapter (docs/adr/0005).</summary>
public sealed class RpcWireTests
{
    private static readonly IssueCouponRequest Sample = new() { CampaignId = "42", UserId = "사용자-1" };

    private static byte[] FrameOf(byte flags, byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? payload.Length));
        payload.CopyTo(frame, 5);
        return frame;
    }

    [Fact]
    public void A_frame_is_a_flag_byte_a_big_endian_length_and_the_message()
    {
        var frame = RpcWire.Frame(Sample);
        Assert.Equal(0, frame[0]);
        Assert.Equal((uint)Sample.CalculateSize(), BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(1)));
        Assert.Equal(Sample, IssueCouponRequest.Parser.ParseFrom(RpcWire.ReadUnaryFrame(frame).Span));
    }

    [Fact]
    public void An_empty_message_is_a_five_byte_frame()
    {
        var frame = RpcWire.Frame(new GetCampaignRequest());
        Assert.Equal(new byte[5], frame);
        Assert.True(RpcWire.ReadUnaryFrame(frame).IsEmpty);
    }

    [Theory]
    [InlineData(1, RpcCode.Unimplemented, "rpc.compression_unsupported")] // compressed flag
    [InlineData(2, RpcCode.Internal, "rpc.invalid_frame")]               // truncated message
    [InlineData(3, RpcCode.Unimplemented, "rpc.not_unary")]              // two messages
    [InlineData(4, RpcCode.ResourceExhausted, "rpc.message_too_large")] // over 4 MiB declared
    [InlineData(5, RpcCode.Internal, "rpc.invalid_frame")]               // shorter than a header
    public void Bad_frames_are_refused_with_a_status(int scenario, RpcCode code, string reason)
    {
        var payload = Sample.ToByteArray();
        byte[] body = scenario switch
        {
            1 => FrameOf(1, payload),
            2 => FrameOf(0, payload, payload.Length + 3),
            3 => [.. FrameOf(0, payload), .. FrameOf(0, payload)],
            4 => FrameOf(0, [], RpcWire.MaxMessageBytes + 1),
            _ => [0, 0, 0],
        };
        var error = Assert.Throws<RpcException>(() => RpcWire.ReadUnaryFrame(body));
        Assert.Equal(code, error.Code);
        Assert.Equal(reason, error.Reason);
    }

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
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("100m", 1_000_000L)]
    [InlineData("7u", 70L)]
    [InlineData("1n", 1L)]    // rounded up to a tick: still a deadline
    [InlineData("0n", 0L)]
    [InlineData("99999999H", 99_999_999L * 36_000_000_000L)]
    public void Grpc_timeouts_parse_to_ticks(string text, long ticks)
    {
        Assert.True(RpcWire.TryParseGrpcTimeout(text, out var timeout));
        Assert.Equal(ticks, timeout.Ticks);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("10s")]
    [InlineData("-1S")]
    [InlineData("123456789S")] // at most 8 digits
    [InlineData(" 1S")]
    public void Malformed_grpc_timeouts_are_refused(string? text) =>
        Assert.False(RpcWire.TryParseGrpcTimeout(text, out _));

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
    [InlineData("campaign.sold_out: All coupons are issued.", "campaign.sold_out: All coupons are issued.")]
    [InlineData("100% done", "100%25 done")]
    [InlineData("line\nbreak\t", "line%0Abreak%09")]
    [InlineData("쿠폰", "%EC%BF%A0%ED%8F%B0")]
    [InlineData("~ and \u007f", "~ and %7F")]
    public void Grpc_message_is_percent_encoded_utf8(string message, string encoded)
    {
        Assert.Equal(encoded, RpcWire.PercentEncode(message));
        Assert.Equal(message, RpcWire.PercentDecode(encoded));
    }

    [Fact]
    public void Malformed_percent_escapes_are_kept() => Assert.Equal("50%zz%", RpcWire.PercentDecode("50%zz%"));

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

    private static readonly RpcException SoldOut = new(RpcCode.ResourceExhausted, "campaign.sold_out", "All coupons are issued.",
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
    public void Grpc_status_details_bin_is_a_google_rpc_status()
    {
        var bin = RpcWire.StatusDetailsBin(SoldOut);
        var status = Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(bin.PadRight((bin.Length + 3) / 4 * 4, '=')));
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
