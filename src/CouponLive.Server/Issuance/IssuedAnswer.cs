using System.Reflection;
using System.Text.Json;
using CouponLive.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace CouponLive.Issuance;

/// <summary>
/// The issue endpoint's success: 201 for a fresh coupon, 200 for a holder's retry. The body is what
/// TypedResults.Created/Ok write (a test compares them byte for byte), encoded by hand with
/// pre-encoded names and sent through <see cref="BufferedJson"/>: in a sell-out, serializing through
/// the options' metadata was ~4% of the server's CPU.
/// </summary>
public sealed class IssuedAnswer(IssueResponse response) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<IssueResponse>, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText CodeName = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText CampaignIdName = JsonEncodedText.Encode("campaignId");
    private static readonly JsonEncodedText UserIdName = JsonEncodedText.Encode("userId");
    private static readonly JsonEncodedText SequenceName = JsonEncodedText.Encode("sequence");
    private static readonly JsonEncodedText IssuedAtName = JsonEncodedText.Encode("issuedAt");
    private static readonly JsonEncodedText ValidUntilName = JsonEncodedText.Encode("validUntil");
    private static readonly JsonEncodedText AlreadyIssuedName = JsonEncodedText.Encode("alreadyIssued");

    public int StatusCode => response.AlreadyIssued ? StatusCodes.Status200OK : StatusCodes.Status201Created;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public IssueResponse Value => response;

    object? IValueHttpResult.Value => response;

    public Task ExecuteAsync(HttpContext http) =>
        BufferedJson.WriteAsync(http, StatusCode, "application/json; charset=utf-8", response, static (json, r) =>
        {
            // The order and naming of the HTTP JSON options' contract (web defaults; nulls written).
            json.WriteStartObject();
            json.WriteString(CodeName, r.Code);
            json.WriteNumber(CampaignIdName, r.CampaignId);
            json.WriteString(UserIdName, r.UserId);
            json.WriteNumber(SequenceName, r.Sequence);
            json.WriteString(IssuedAtName, r.IssuedAt);
            if (r.ValidUntil is { } validUntil) json.WriteString(ValidUntilName, validUntil);
            else json.WriteNull(ValidUntilName);
            json.WriteBoolean(AlreadyIssuedName, r.AlreadyIssued);
            json.WriteEndObject();
        });

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status201Created, typeof(IssueResponse), ["application/json"]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(IssueResponse), ["application/json"]));
    }
}
