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

    public static ServiceResult<Planned> Update(StoredCampaign c, int issued, CampaignPatch patch, DateTimeOffset now)
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
        if (patch.Windows.IsSet && CheckWindows(c.Windows, d.Windows, now) is { } windowFailure)
            return windowFailure;
        if (d.TotalQuantity < issued)
            return BelowIssued(issued);

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

    /// <summary>
    /// Windows that have started keep their place, start and quota; an ended one keeps its end, the open one may
    /// end at any time after now. Every other window starts after now.
    /// </summary>
    private static ServiceFailure? CheckWindows(IReadOnlyList<CampaignWindow> before, IReadOnlyList<CampaignWindow> after, DateTimeOffset now)
    {
        var started = before.Count(w => w.StartsAt <= now);
        for (var i = 0; i < started; i++)
        {
            var path = Invariant($"windows[{i}]");
            if (i >= after.Count || after[i].StartsAt != before[i].StartsAt || after[i].Quota != before[i].Quota)
                return new ServiceFailure(ErrorCodes.WindowStarted, path, $"Window {i} has started ({Text(before[i].StartsAt)}): it stays in the list with its start and quota.");
            var ended = before[i].EndsAt <= now;
            if (ended && after[i].EndsAt != before[i].EndsAt)
                return new ServiceFailure(ErrorCodes.WindowStarted, path + ".endsAt", $"Window {i} has ended; its end cannot change.");
            if (!ended && after[i].EndsAt <= now)
                return new ServiceFailure(ErrorCodes.WindowStarted, path + ".endsAt",
                    "The open window cannot end in the past; end it now with POST /api/v1/campaigns/{id}/windows/current/end.");
        }
        for (var i = started; i < after.Count; i++)
        {
            if (after[i].StartsAt <= now)
                return new ServiceFailure(ErrorCodes.WindowStarted, Invariant($"windows[{i}].startsAt"), "A new or changed window must start in the future.");
        }
        return null;
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
