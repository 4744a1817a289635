using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CouponLive.Campaigns;
using CouponLive.Storage;

namespace CouponLive.Events;

/// <summary>
/// The events a store writes with each change (<see cref="OutboxEvent"/>): type, subject and data, the same in every
/// store. Ids are UUIDv7: unique, and ordered by time, which keeps the outbox's inserts at the end of their index.
/// </summary>
public static class OutboxEvents
{
    public static OutboxEvent Issued(IssuedCoupon c, DateTimeOffset committedAt) => Coupon(EventTypes.CouponIssued, c, committedAt);

    /// <summary>A coupon's redemption, its cancellation or its revocation, from the row as the change left it.</summary>
    public static OutboxEvent Changed(string type, IssuedCoupon c, DateTimeOffset at, string? orderId = null) => Coupon(type, c, at, orderId);

    public static OutboxEvent CampaignCreated(long campaignId, CampaignDefinition d, DateTimeOffset at) =>
        Campaign(EventTypes.CampaignCreated, campaignId, at, w =>
        {
            w.WriteNumber("totalQuantity", d.TotalQuantity);
            WriteWindows(w, d.Windows);
            if (d.CouponValidUntil is { } v) w.WriteString("couponValidUntil", v);
            if (d.Benefit is { } b)
            {
                w.WriteStartObject("benefit");
                w.WriteString("type", b.Type);
                w.WriteNumber("value", b.Value);
                w.WriteEndObject();
            }
            w.WriteString("createdAt", at);
        });

    /// <summary>An administrative change: its action as a past event, what kinds of thing it changed, and each field before and after.</summary>
    public static OutboxEvent CampaignChanged(StoredCampaign after, AuditEntry audit) =>
        Campaign(EventTypes.CampaignChanged, after.Id, audit.At, w =>
        {
            w.WriteString("change", audit.Action switch
            {
                "pause" => "paused",
                "resume" => "resumed",
                "cancel" => "cancelled",
                "end_window" => "window_ended",
                _ => "updated",
            });
            w.WriteStartArray("changed");
            foreach (var kind in audit.Changes.Select(c => Kind(c.Field)).Distinct()) w.WriteStringValue(kind);
            w.WriteEndArray();
            w.WriteStartArray("changes");
            foreach (var c in audit.Changes)
            {
                w.WriteStartObject();
                w.WriteString("field", c.Field);
                w.WriteString("from", c.From);
                w.WriteString("to", c.To);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("version", after.Version);
            w.WriteString("status", after.IssuedRevoked || after.CancelledAt is not null ? CampaignStatus.Cancelled : after.PausedAt is not null ? CampaignStatus.Paused : CampaignChanges.Active);
            w.WriteNumber("totalQuantity", after.TotalQuantity);
            WriteWindows(w, after.Windows);
            w.WriteString("actor", audit.Actor);
            w.WriteString("changedAt", audit.At);
        });

    public static OutboxEvent GrantFinished(GrantRecord g) =>
        Campaign(EventTypes.GrantFinished, g.CampaignId, g.DoneAt ?? g.CreatedAt, w =>
        {
            w.WriteString("grantId", g.GrantId);
            w.WriteNumber("grantNo", g.GrantNo);
            w.WriteNumber("requested", g.Requested);
            w.WriteNumber("issued", g.Issued);
            w.WriteNumber("alreadyHeld", g.AlreadyHeld);
            w.WriteNumber("soldOut", g.SoldOut);
            w.WriteNumber("invalid", g.Invalid);
            w.WriteNumber("cancelled", g.Cancelled);
            w.WriteString("createdAt", g.CreatedAt);
            w.WriteString("finishedAt", g.DoneAt ?? g.CreatedAt);
        }, Invariant($"campaigns/{g.CampaignId}/grants/{g.GrantId}"));

    // "windows", "quantity", "status" (paused, resumed, cancelled), "name", "validity", "benefit", "issuedRevoked".
    private static string Kind(string field) =>
        field.StartsWith("windows", StringComparison.Ordinal) ? "windows"
        : field switch { "totalQuantity" => "quantity", "couponValidUntil" => "validity", _ => field };

    private static OutboxEvent Coupon(string type, IssuedCoupon c, DateTimeOffset at, string? orderId = null) =>
        Campaign(type, c.CampaignId, at, w =>
        {
            w.WriteString("code", c.Code);
            w.WriteString("userId", c.UserId);
            w.WriteNumber("sequence", c.Sequence);
            if (c.Source.WindowIndex is { } window) w.WriteNumber("windowIndex", window);
            if (c.Source.GrantNo is { } grant) w.WriteNumber("grantNo", grant);
            w.WriteString("issuedAt", c.IssuedAt);
            if ((orderId ?? c.OrderId) is { } order) w.WriteString("orderId", order);
            if (c.RedeemedAt is { } redeemed) w.WriteString("redeemedAt", redeemed);
            if (c.RedemptionCancelledAt is { } cancelled && type == EventTypes.CouponRedemptionCancelled) w.WriteString("redemptionCancelledAt", cancelled);
            if (c.RevokedAt is { } revoked) w.WriteString("revokedAt", revoked);
        }, Invariant($"campaigns/{c.CampaignId}/coupons/{c.Code}"));

    private static void WriteWindows(Utf8JsonWriter w, IReadOnlyList<CampaignWindow> windows)
    {
        w.WriteStartArray("windows");
        foreach (var window in windows)
        {
            w.WriteStartObject();
            w.WriteString("startsAt", window.StartsAt);
            w.WriteString("endsAt", window.EndsAt);
            if (window.Quota is { } q) w.WriteNumber("quota", q);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>data = {"campaignId": …, "campaignName": (filled in by the store), …the rest}.</summary>
    private static OutboxEvent Campaign(string type, long campaignId, DateTimeOffset at, Action<Utf8JsonWriter> rest, string? subject = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            rest(w);
            w.WriteEndObject();
        }
        var body = Encoding.UTF8.GetString(buffer.WrittenSpan);
        var tail = body.Length > 2 ? "," + body[1..] : "}";
        return new OutboxEvent(Guid.CreateVersion7(at), campaignId, type, subject ?? Invariant($"campaigns/{campaignId}"), at,
            Invariant($"{{\"campaignId\":{campaignId},\"campaignName\":"), tail);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
