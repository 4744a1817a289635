namespace CouponLive.Issuance;

/// <summary>
/// Admissions that outlive the process that made them: a gate shared by many processes (Redis) records each
/// admission before its commit, so another process can commit it if this one dies (I5, I6). The in-process
/// gate has none: its admissions die with the process, which never answered them.
/// </summary>
public interface IAdmissionOutbox
{
    /// <summary>The admissions of up to <paramref name="maxEntries"/> outbox entries written before <paramref name="admittedBefore"/>, oldest first.</summary>
    ValueTask<IReadOnlyList<OutboxEntry>> ReadOutboxAsync(long campaignId, DateTimeOffset admittedBefore, int maxEntries, CancellationToken ct);

    /// <summary>Deletes whole outbox entries (the reconciler, which stored every admission they hold).</summary>
    ValueTask DeleteOutboxAsync(long campaignId, IReadOnlyList<string> entryIds, CancellationToken ct);

    /// <summary>
    /// Reports admissions of this process stored, one outbox id per admission (repeats expected): an
    /// entry is deleted once all admissions it holds are reported.
    /// </summary>
    ValueTask ReleaseOutboxAsync(long campaignId, IReadOnlyList<string> outboxIds, CancellationToken ct);

    /// <summary>Campaigns whose gate state exists (and so may have an outbox).</summary>
    ValueTask<IReadOnlyList<long>> KnownCampaignsAsync(CancellationToken ct);
}
