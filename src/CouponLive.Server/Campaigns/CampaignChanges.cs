using System.Globalization;
using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>
/// The rules of an operator's change, pure: from the campaign as stored (and its committed count) to the
/// campaign it becomes and the fields that changed, or the reason it cannot. An empty change list means
/// nothing to do (the same pause twice, a patch that repeats the current values).
/// </summary>
public static class CampaignChanges
{
    public const string Active = "active";

    public static ServiceResult<Planned> Pause(StoredCampaign c, DateTimeOffset now)
    {
        if (c.CancelledAt is not null) return Cancelled;
        if (c.PausedAt is not null) return new Planned(c, []);
        return new Planned(c with { PausedAt = now }, [new("status", Active, CampaignStatus.Paused)]);
    }

    public static ServiceResult<Planned> Resume(StoredCampaign c)
    {
        if (c.CancelledAt is not null) return Cancelled;
        if (c.PausedAt is null) return new Planned(c, []);
        return new Planned(c with { PausedAt = null }, [new("status", CampaignStatus.Paused, Active)]);
    }

    public static Planned Cancel(StoredCampaign c, bool revokeIssued, DateTimeOffset now)
    {
        var changes = new List<AuditChange>();
        if (c.CancelledAt is null) changes.Add(new("status", c.PausedAt is null ? Active : CampaignStatus.Paused, CampaignStatus.Cancelled));
        if (revokeIssued && !c.IssuedRevoked) changes.Add(new("issuedRevoked", "false", "true"));
        if (changes.Count == 0) return new Planned(c, []);
        return new Planned(c with { CancelledAt = c.CancelledAt ?? now, PausedAt = null, IssuedRevoked = c.IssuedRevoked || revokeIssued }, changes);
    }

    /// <summary>Before the gate decides where the open window is: only a cancelled campaign is refused here.</summary>
    public static ServiceResult<Planned> EndCurrentWindow(StoredCampaign c) => c.CancelledAt is not null ? Cancelled : new Planned(c, []);

    /// <summary>The campaign with window <paramref name="index"/> ending at <paramref name="endsAt"/>, and that change.</summary>
    public static Planned EndWindow(StoredCampaign c, int index, DateTimeOffset endsAt) => new(
        c with { Windows = [.. c.Windows.Select((w, i) => i == index ? w with { EndsAt = endsAt } : w)] },
        [new(Invariant($"windows[{index}].endsAt"), Text(c.Windows[index].EndsAt), Text(endsAt))]);

    /// <summary>
    /// A PATCH, judged on what the store holds: the creation rules on the merged campaign, a quantity not below the
    /// committed count, no window holding coupons moved or dropped. Which windows have started by the clock is the
    /// gate's to judge, atomically with the change (<see cref="WindowChangeRule"/>).
    /// </summary>
    public static ServiceResult<Planned> Update(StoredCampaign c, CampaignCounts counts, CampaignPatch patch, DateTimeOffset now)
    {
        if (c.CancelledAt is not null) return Cancelled;

        // The merged campaign goes through the creation rules, so a change can never make what creation refuses.
        var merged = new CreateCampaignRequest(
            patch.Name.IsSet ? patch.Name.Value : c.Name,
            patch.TotalQuantity.IsSet ? patch.TotalQuantity.Value : c.TotalQuantity,
            null,
            null,
            patch.Windows.IsSet ? patch.Windows.Value : c.Windows.Select(w => (WindowRequest?)new WindowRequest(Text(w.StartsAt), Text(w.EndsAt), w.Quota)).ToList(),
            null,
            patch.CouponValidUntil.IsSet ? patch.CouponValidUntil.Value : c.CouponValidUntil is { } v ? Text(v) : null,
            patch.Benefit.IsSet ? patch.Benefit.Value : c.Benefit is { } b ? new BenefitRequest(b.Type, b.Value) : null);
        // An ended campaign may still get a name or validity fix; which windows may change is checked below.
        if (!CampaignValidator.TryValidate(merged, now, out var d, out var failure, requireFutureEnd: false))
            return failure;
        if (patch.Windows.IsSet && WindowChangeRule.CheckHeld(c.Windows, d.Windows, counts.IssuedPerWindow) is { } held)
            return WindowChangeRule.Failure(held, c.Windows);
        if (d.TotalQuantity < counts.Issued)
            return BelowIssued(counts.Issued);

        var changes = new List<AuditChange>();
        if (d.Name != c.Name) changes.Add(new("name", c.Name, d.Name));
        if (d.TotalQuantity != c.TotalQuantity) changes.Add(new("totalQuantity", Number(c.TotalQuantity), Number(d.TotalQuantity)));
        if (d.CouponValidUntil != c.CouponValidUntil) changes.Add(new("couponValidUntil", Text(c.CouponValidUntil), Text(d.CouponValidUntil)));
        if (d.Benefit != c.Benefit) changes.Add(new("benefit", Text(c.Benefit), Text(d.Benefit)));
        for (var i = 0; i < Math.Max(c.Windows.Count, d.Windows.Count); i++)
        {
            var before = i < c.Windows.Count ? c.Windows[i] : null;
            var after = i < d.Windows.Count ? d.Windows[i] : null;
            if (before != after) changes.Add(new(Invariant($"windows[{i}]"), Text(before), Text(after)));
        }
        return new Planned(
            c with { Name = d.Name, TotalQuantity = d.TotalQuantity, Windows = d.Windows, CouponValidUntil = d.CouponValidUntil, Benefit = d.Benefit },
            changes);
    }

    public static ServiceFailure BelowIssued(int issued) => new(ErrorCodes.QuantityBelowIssued, "totalQuantity",
        Invariant($"totalQuantity cannot go below the {issued} coupons already issued."));

    public static ServiceFailure Cancelled { get; } = new(ErrorCodes.CampaignCancelled, "", "The campaign was cancelled; it cannot change any more.");

    private static string? Text(DateTimeOffset? t) => t is { } v ? Instants.Text(v) : null;

    private static string? Text(Benefit? b) => b is null ? null : Invariant($"{b.Type} {b.Value}");

    private static string? Text(CampaignWindow? w) => w is null ? null : $"{Text(w.StartsAt)}/{Text(w.EndsAt)}" + (w.Quota is { } q ? Invariant($" quota {q}") : "");

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
