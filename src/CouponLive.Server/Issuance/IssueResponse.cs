namespace CouponLive.Issuance;

public sealed record IssueResponse(
    string Code,
    long CampaignId,
    string UserId,
    long Sequence,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ValidUntil,
    bool AlreadyIssued);
