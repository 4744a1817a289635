namespace CouponLive.Campaigns;

/// <summary>Cancel's optional body: <c>revokeIssued</c> true also revokes every coupon issued so far.</summary>
public sealed record CancelCampaignRequest(bool? RevokeIssued);
