namespace CouponLive.Codes;

/// <summary>
/// <see cref="CheckCharacterValid"/> is a key-less typo check anyone may run. Whether the code was
/// really issued (and to whom) is told to admins only, so the endpoint is no oracle for guessing codes.
/// </summary>
public sealed record ValidateCodeResponse(
    string Code,
    bool CheckCharacterValid,
    bool? Issued = null,
    long? CampaignId = null,
    long? Sequence = null,
    string? UserId = null,
    DateTimeOffset? IssuedAt = null);
