using CouponLive.Campaigns;

namespace CouponLive.Storage;

/// <summary>
/// A campaign as stored. <see cref="Version"/> grows with every administrative change (the ETag);
/// <see cref="PausedAt"/> and <see cref="CancelledAt"/> are the gate's state, so a rebuilt gate keeps it;
/// <see cref="IssuedRevoked"/>: cancelled with its issued coupons revoked.
/// </summary>
public sealed record StoredCampaign(
    long Id,
    string Name,
    int TotalQuantity,
    IReadOnlyList<CampaignWindow> Windows,
    DateTimeOffset? CouponValidUntil,
    Benefit? Benefit,
    DateTimeOffset CreatedAt,
    int Version = 1,
    DateTimeOffset? PausedAt = null,
    DateTimeOffset? CancelledAt = null,
    bool IssuedRevoked = false)
{
    public Issuance.GateState State =>
        IssuedRevoked ? Issuance.GateState.Revoked
        : CancelledAt is not null ? Issuance.GateState.Cancelled
        : PausedAt is not null ? Issuance.GateState.Paused
        : Issuance.GateState.Open;
}
