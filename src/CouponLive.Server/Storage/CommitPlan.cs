namespace CouponLive.Storage;

/// <summary>
/// One group commit, planned the same way for every store (SQLite, PostgreSQL, MySQL); a store only runs the
/// statements, in one transaction:
/// <list type="number">
/// <item>insert <see cref="Rows"/> in (campaign, sequence) order, so writers that meet on the same keys wait on each
/// other in one order instead of deadlocking; a row is written, or skipped when its user holds a coupon (its code or
/// sequence is another user's, or its window does not exist, the store refuses or skips it);</item>
/// <item>look up the stored coupons of the users whose rows were not written (<see cref="Unwritten"/>);</item>
/// <item>move the counters by what was written (<see cref="Counters"/>, ascending campaign then window, the same
/// order in every process), whose CHECK constraints refuse over-issue (I1); commit.</item>
/// </list>
/// <see cref="RunAsync"/> drives the stages a group goes through when the store refuses part of it.
/// </summary>
public sealed class CommitPlan
{
    private readonly Dictionary<(long Campaign, string User), int> _first = [];

    public CommitPlan(IReadOnlyList<IssuedCoupon> batch)
    {
        Batch = batch;
        for (var i = 0; i < batch.Count; i++) _first.TryAdd((batch[i].CampaignId, batch[i].UserId), i);
        // One row per user: of a user's rows in one group (a row given twice, an admission replayed) the first is written.
        Rows = [.. _first.Values.Order().Select(i => batch[i]).OrderBy(c => c.CampaignId).ThenBy(c => c.Sequence)];
    }

    /// <summary>The rows in the caller's order: outcomes come back in it.</summary>
    public IReadOnlyList<IssuedCoupon> Batch { get; }

    /// <summary>The rows to insert, in insert order: one per user.</summary>
    public IReadOnlyList<IssuedCoupon> Rows { get; }

    /// <summary>The campaigns of the group, ascending.</summary>
    public IEnumerable<long> Campaigns => Rows.Select(r => r.CampaignId).Distinct();

    /// <summary>The rows (one per user) that were not written: the store looks up their users' stored coupons.</summary>
    public IReadOnlyList<IssuedCoupon> Unwritten(IReadOnlySet<RowKey> written) => [.. Rows.Where(c => !written.Contains(RowKey.Of(c)))];

    /// <summary>
    /// The outcome of every row, in batch order: the first row of a user that was written is Inserted; a user's other
    /// rows are Existing with the stored coupon (the one just written, or one the store held); a row whose user holds
    /// none is Rejected.
    /// </summary>
    public CommitOutcome[] Outcomes(IReadOnlySet<RowKey> written, IReadOnlyDictionary<(long Campaign, string User), IssuedCoupon> holders)
    {
        var outcomes = new CommitOutcome[Batch.Count];
        for (var i = 0; i < Batch.Count; i++)
        {
            var c = Batch[i];
            var first = _first[(c.CampaignId, c.UserId)];
            if (written.Contains(RowKey.Of(Batch[first])))
                outcomes[i] = new CommitOutcome(first == i ? CommitStatus.Inserted : CommitStatus.Existing, Batch[first]);
            else if (holders.TryGetValue((c.CampaignId, c.UserId), out var held))
                outcomes[i] = new CommitOutcome(CommitStatus.Existing, held);
            else
                outcomes[i] = CommitOutcome.Rejected;
        }
        return outcomes;
    }

    /// <summary>The counters the Inserted rows move: each campaign's, then its windows', ascending. A granted coupon counts for its campaign only.</summary>
    public static IReadOnlyList<CounterChange> Counters(IReadOnlyList<CommitOutcome> outcomes)
    {
        var campaigns = new SortedDictionary<long, int>();
        var windows = new SortedDictionary<(long Campaign, int Window), int>();
        foreach (var o in outcomes)
        {
            if (o.Status != CommitStatus.Inserted) continue;
            var c = o.Coupon!;
            campaigns[c.CampaignId] = campaigns.GetValueOrDefault(c.CampaignId) + 1;
            if (c.Source.WindowIndex is { } w) windows[(c.CampaignId, w)] = windows.GetValueOrDefault((c.CampaignId, w)) + 1;
        }
        var changes = new List<CounterChange>(campaigns.Count + windows.Count);
        foreach (var (campaign, added) in campaigns)
        {
            changes.Add(new CounterChange(campaign, null, added));
            foreach (var ((_, window), n) in windows.Where(w => w.Key.Campaign == campaign)) changes.Add(new CounterChange(campaign, window, n));
        }
        return changes;
    }

    /// <summary>The issued event of each Inserted row (the outbox's part of the group), in insert order.</summary>
    public static IReadOnlyList<Events.OutboxEvent> IssuedEvents(IReadOnlyList<CommitOutcome> outcomes, DateTimeOffset committedAt) =>
        [.. outcomes.Where(o => o.Status == CommitStatus.Inserted).Select(o => o.Coupon!).OrderBy(c => c.CampaignId).ThenBy(c => c.Sequence)
            .Select(c => Events.OutboxEvents.Issued(c, committedAt))];

    /// <summary>
    /// Commits a group through a store's <paramref name="commitGroup"/> (one transaction per call), in stages:
    /// first without looking for clashes (a sale's groups almost never clash: each user is admitted once), then, if
    /// the store refused the group, skipping rows whose users hold a coupon, then, if still refused (a counter's CHECK:
    /// over-issue, or a code clash), row by row, so the other rows land and only the offending ones are Rejected. A
    /// refused single row is tried once more (a holder that committed meanwhile is then found). Anything that is not
    /// a refusal (connection lost, a timeout, an error the rows did not cause) propagates: nothing was committed.
    /// </summary>
    public static async Task<IReadOnlyList<CommitOutcome>> RunAsync(
        IReadOnlyList<IssuedCoupon> batch, Func<CommitPlan, bool, Task<CommitOutcome[]>> commitGroup, Func<Exception, bool> isRefusal)
    {
        if (batch.Count == 0) return [];
        try
        {
            return await commitGroup(new CommitPlan(batch), false);
        }
        catch (Exception ex) when (isRefusal(ex))
        {
        }
        try
        {
            return await commitGroup(new CommitPlan(batch), true);
        }
        catch (Exception ex) when (isRefusal(ex) && batch.Count > 1)
        {
        }
        catch (Exception ex) when (isRefusal(ex))
        {
            return [CommitOutcome.Rejected];
        }
        var outcomes = new CommitOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            IReadOnlyList<IssuedCoupon> one = [batch[i]];
            outcomes[i] = CommitOutcome.Rejected;
            for (var attempt = 0; attempt < 2; attempt++)
            {
                try
                {
                    outcomes[i] = (await commitGroup(new CommitPlan(one), true))[0];
                    break;
                }
                catch (Exception ex) when (isRefusal(ex))
                {
                }
            }
        }
        return outcomes;
    }
}
