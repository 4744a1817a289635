using System.Text.Json;
using System.Text.Json.Serialization;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Dashboard;
using CouponLive.Issuance;
using CouponLive.Storage;

namespace CouponLive.Http;

/// <summary>Source-generated JSON for every request and response body (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Events.EventBacklogView))]
[JsonSerializable(typeof(SignUpRequest))]
[JsonSerializable(typeof(SignUpResponse))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(CreateCampaignRequest))]
[JsonSerializable(typeof(CampaignResponse))]
[JsonSerializable(typeof(UpdateCampaignRequest))]
[JsonSerializable(typeof(RedeemRequest))]
[JsonSerializable(typeof(CouponLive.Grants.GrantRequest))]
[JsonSerializable(typeof(CouponLive.Grants.GrantResponse))]
[JsonSerializable(typeof(CouponLive.Grants.GrantList))]
[JsonSerializable(typeof(CouponResponse))]
[JsonSerializable(typeof(CancelCampaignRequest))]
[JsonSerializable(typeof(CampaignAudit))]
[JsonSerializable(typeof(IReadOnlyList<AuditChange>))]
[JsonSerializable(typeof(IReadOnlyList<WindowRequest>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(CouponPage))]
[JsonSerializable(typeof(IssueResponse))]
[JsonSerializable(typeof(MyCoupons))]
[JsonSerializable(typeof(ValidateCodeRequest))]
[JsonSerializable(typeof(ValidateCodeResponse))]
[JsonSerializable(typeof(CampaignList))]
[JsonSerializable(typeof(LiveSnapshot))]
[JsonSerializable(typeof(DateTimeOffset))]
public sealed partial class AppJsonContext : JsonSerializerContext;
