using CouponLive.Issuance;
using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>
/// The campaign rules behind every transport (REST, gRPC, Connect, the dashboard): create (validated,
/// stored, cached), read with committed counts and status, list, page through the issued codes, and
/// operate a live campaign (pause, resume, change, end the open window, cancel), audited.
/// </summary>
public sealed partial class CampaignService(
    ICouponStore store,
    CampaignCatalog catalog,
    IAdmissionGate gate,
    TimeProvider time,
    ILogger<CampaignService> logger)
{
    public const int MaxAuditEntries = 500;
    // Long enough for a queue of concurrent changes of one campaign on a busy machine; changes are rare and short.
    private static readonly TimeSpan CampaignLockTimeout = TimeSpan.FromSeconds(15);
    public const int DefaultPageSize = 1_000;
    public const int MaxPageSize = 10_000;
    public const int MaxListed = 200;

    public async Task<ServiceResult<CampaignResponse>> CreateAsync(CreateCampaignRequest request, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!CampaignValidator.TryValidate(request, now, out var definition, out var failure)) return failure;

        var id = await store.TryCreateCampaignAsync(definition, now, ct);
        if (id is null) return new ServiceFailure(ErrorCodes.CampaignNameTaken, "name", "A campaign with this name exists.");
        var campaign = await store.GetCampaignAsync(id.Value, ct)
            ?? throw new InvalidOperationException($"Campaign {id} vanished after creation.");
        catalog.Add(campaign);
        return ToResponse(campaign, new CampaignCounts(0, new int[campaign.Windows.Count]), now);
    }

    /// <summary>The campaign by its id as the route or message carries it (text); not found for anything but a known id.</summary>
    public async Task<ServiceResult<CampaignResponse>> GetAsync(string? id, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound;
        return ToResponse(campaign, await store.GetCountsAsync(campaign.Id, ct), time.GetUtcNow());
    }

    /// <summary>The campaign with this name (normalized as at creation).</summary>
    public async Task<ServiceResult<CampaignResponse>> FindByNameAsync(string? name, CancellationToken ct)
    {
        if (!CampaignValidator.TryNormalizeName(name, out var normalized) || await store.FindCampaignIdByNameAsync(normalized, ct) is not { } id)
            return NotFound;
        return await GetAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
    }

    /// <summary>Up to <paramref name="limit"/> coupons after sequence <paramref name="afterSequence"/>.</summary>
    public async Task<ServiceResult<CouponPage>> ListCouponsAsync(string? id, long afterSequence, int limit, string? status, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound;
        if (limit is < 1 or > MaxPageSize)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "limit", $"limit must be 1 to {MaxPageSize}.");
        if (afterSequence < 0)
            return new ServiceFailure(ErrorCodes.InvalidPaging, "after", "after must be a sequence number from a previous page's next.");

        if (status is not null && !CouponStatus.IsKnown(status))
            return new ServiceFailure(ErrorCodes.BadRequest, "status", "status must be issued, redeemed, expired or revoked.");

        // One row more than asked tells whether another page follows.
        var now = time.GetUtcNow();
        var coupons = await store.ListCouponsAsync(campaign.Id, afterSequence, limit + 1, CouponStatus.Filter(status, campaign, now), ct);
        var items = new List<CouponItem>(Math.Min(coupons.Count, limit));
        for (var i = 0; i < coupons.Count && i < limit; i++)
            items.Add(new CouponItem(coupons[i].Code, coupons[i].UserId, coupons[i].Sequence, coupons[i].IssuedAt,
                CouponStatus.Of(coupons[i], campaign, now), coupons[i].OrderId, coupons[i].RedeemedAt));
        return new CouponPage(items, coupons.Count > limit ? items[^1].Sequence : null);
    }

    /// <summary>The newest campaigns (at most <see cref="MaxListed"/>) with their counts and status.</summary>
    public async Task<CampaignList> ListAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var items = new List<CampaignSummary>();
        foreach (var id in await store.ListCampaignIdsAsync(MaxListed, ct))
        {
            if (await catalog.GetAsync(id, ct) is not { } campaign) continue;
            var counts = await store.GetCountsAsync(id, ct);
            var (status, _, _) = CampaignStatus.Compute(campaign, counts, now);
            items.Add(new CampaignSummary(id, campaign.Name, campaign.TotalQuantity, counts.Issued, status, campaign.Windows[0].StartsAt, campaign.Windows[^1].EndsAt));
        }
        return new CampaignList(items);
    }

    public static ServiceFailure NotFound { get; } = new(ErrorCodes.CampaignNotFound, "", "No such campaign.");

    public static ServiceFailure Changed { get; } = new(ErrorCodes.CampaignChanged, "", "The campaign changed since it was read (If-Match); read it again and retry.");

    private static readonly ServiceFailure Busy = new(ErrorCodes.ServiceUnavailable, "", "Another change of this campaign is in progress; retry shortly.")
    {
        RetryAfter = TimeSpan.FromSeconds(1),
    };

    private static readonly ServiceFailure GateUnreachable = new(ErrorCodes.ServiceUnavailable, "",
        "The change could not reach the admission gate; nothing changed. Retry shortly.")
    {
        RetryAfter = TimeSpan.FromSeconds(1),
    };

    private static readonly ServiceFailure NotSaved = new(ErrorCodes.ServiceUnavailable, "",
        "The change could not be saved; nothing changed (read the campaign to see it). Retry shortly.")
    {
        RetryAfter = TimeSpan.FromSeconds(1),
    };

    // ---- operating a live campaign ----

    public Task<ServiceResult<CampaignResponse>> PauseAsync(string? id, string actor, string? ifMatch, CancellationToken ct) =>
        ChangeAsync(id, actor, ifMatch, "pause", (c, _, now) => CampaignChanges.Pause(c, now), endCurrentWindow: false, ct);

    public Task<ServiceResult<CampaignResponse>> ResumeAsync(string? id, string actor, string? ifMatch, CancellationToken ct) =>
        ChangeAsync(id, actor, ifMatch, "resume", (c, _, _) => CampaignChanges.Resume(c), endCurrentWindow: false, ct);

    public Task<ServiceResult<CampaignResponse>> CancelAsync(string? id, string actor, bool revokeIssued, string? ifMatch, CancellationToken ct) =>
        ChangeAsync(id, actor, ifMatch, "cancel", (c, _, now) => CampaignChanges.Cancel(c, revokeIssued, now), endCurrentWindow: false, ct);

    public Task<ServiceResult<CampaignResponse>> UpdateAsync(string? id, string actor, CampaignPatch patch, string? ifMatch, CancellationToken ct) =>
        ChangeAsync(id, actor, ifMatch, "update", (c, counts, now) => CampaignChanges.Update(c, counts, patch, now), endCurrentWindow: false, ct);

    /// <summary>Ends the window open now (by the gate's clock); issuing stops until the next window opens.</summary>
    public Task<ServiceResult<CampaignResponse>> EndCurrentWindowAsync(string? id, string actor, string? ifMatch, CancellationToken ct) =>
        ChangeAsync(id, actor, ifMatch, "end_window", (c, _, _) => CampaignChanges.EndCurrentWindow(c), endCurrentWindow: true, ct);

    public async Task<ServiceResult<CampaignAudit>> ListAuditAsync(string? id, CancellationToken ct)
    {
        var campaign = CampaignCatalog.TryParseId(id, out var campaignId) ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return NotFound;
        return new CampaignAudit(await store.ListAuditAsync(campaignId, MaxAuditEntries, ct));
    }

    /// <summary>
    /// One change, applied to the store and the gate entirely or not at all, whatever fails at whichever step (the change
    /// rule, docs/architecture.md):
    /// <list type="number">
    /// <item>lock: the campaign lock (no process rebuilds the gate or changes the campaign meanwhile), then the
    /// campaign's row in the store (no group commit of it moves its counters until the edit ends); If-Match;</item>
    /// <item>plan (pure): the new definition, or why not; written to the store, uncommitted;</item>
    /// <item>apply: the gate takes the change in one atomic step on its own clock, or refuses it (nothing changed, the
    /// store rolls back); from here on the request's cancellation no longer counts;</item>
    /// <item>finish: what the gate decided (the pause's instant, the ended window's end) is written and the store commits
    /// with the audit entry. If that fails, the gate is dropped, so it is rebuilt from the store, the arbiter; if even
    /// that cannot be done, the failover watch drops it once it sees the store's version differ.</item>
    /// </list>
    /// </summary>
    private async Task<ServiceResult<CampaignResponse>> ChangeAsync(
        string? id, string actor, string? ifMatch, string action, Func<StoredCampaign, CampaignCounts, DateTimeOffset, ServiceResult<Planned>> plan,
        bool endCurrentWindow, CancellationToken ct)
    {
        if (!CampaignCatalog.TryParseId(id, out var campaignId) || await catalog.GetAsync(campaignId, ct) is null) return NotFound;

        // 1. Lock.
        await using var campaignLock = await LockCampaignAsync(campaignId, ct);
        if (campaignLock is null) return Busy;
        await using var edit = await store.BeginCampaignEditAsync(campaignId, ct);
        if (edit is null) return NotFound;
        var current = edit.Current;
        if (!ETags.Matches(ifMatch, current.Version)) return Changed;

        // 2. Plan.
        var (planned, refusal) = plan(current, edit.Counts, MillisecondClock.Now(time));
        if (planned is null) return refusal!;
        if (planned.Changes.Count == 0 && !endCurrentWindow) return await ResponseAsync(current, ct); // nothing to do: no new version, no audit entry
        var updated = planned.Campaign with { Version = current.Version + 1 };
        if (!await edit.WriteAsync(updated, ct))
            return new ServiceFailure(ErrorCodes.CampaignNameTaken, "name", "A campaign with this name exists.");

        // 3. Apply.
        GateChange change;
        try
        {
            change = await gate.ChangeAsync(current, updated, endCurrentWindow, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Unknown whether the gate took the change: drop its state so it is rebuilt from the store (rolled back).
            LogGateChangeFailed(ex, campaignId, action);
            await DropGateAsync(campaignId);
            return GateUnreachable;
        }
        switch (change.Status)
        {
            case GateChangeStatus.BelowIssued:
                return CampaignChanges.BelowIssued(change.Issued);
            case GateChangeStatus.NoCurrentWindow:
                return NoCurrentWindow;
            case GateChangeStatus.WindowStarted:
                return WindowChangeRule.Failure(change.Refusal!.Value, current.Windows);
        }

        // 4. Finish.
        var (final, changes) = Finish(current, updated, planned.Changes, change, endCurrentWindow);
        try
        {
            if (final != updated) await edit.WriteAsync(final, CancellationToken.None);
            await edit.CommitAsync(new AuditEntry(time.GetUtcNow(), actor, action, changes), CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogGateChangeFailed(ex, campaignId, action);
            if (change.Status == GateChangeStatus.Applied) await DropGateAsync(campaignId);
            return NotSaved;
        }
        catalog.Add(final);
        LogChanged(campaignId, action, actor, final.Version);
        // The window ends a millisecond after the gate's clock read: answer once that has passed.
        if (endCurrentWindow) await Task.Delay(TimeSpan.FromMilliseconds(2), time, CancellationToken.None);
        return await ResponseAsync(final, CancellationToken.None);
    }

    /// <summary>The campaign as the gate decided it: a pause at the gate's instant (after which it admitted nobody), the open window ended at its answer.</summary>
    private static (StoredCampaign Campaign, IReadOnlyList<AuditChange> Changes) Finish(
        StoredCampaign current, StoredCampaign updated, IReadOnlyList<AuditChange> changes, GateChange change, bool endCurrentWindow)
    {
        if (endCurrentWindow)
        {
            var ended = CampaignChanges.EndWindow(updated, change.EndedWindow, change.EndedAt);
            return (ended.Campaign, ended.Changes);
        }
        if (current.PausedAt is null && updated.PausedAt is not null) return (updated with { PausedAt = change.Now }, changes);
        return (updated, changes);
    }

    private static readonly ServiceFailure NoCurrentWindow = new(ErrorCodes.NoCurrentWindow, "", "No window of the campaign is open now.");

    private async Task<CampaignResponse> ResponseAsync(StoredCampaign campaign, CancellationToken ct) =>
        ToResponse(campaign, await store.GetCountsAsync(campaign.Id, ct), time.GetUtcNow());

    /// <summary>The campaign lock, waited for up to a few seconds (another operator's change or a rebuild holds it briefly).</summary>
    private async Task<IAsyncDisposable?> LockCampaignAsync(long campaignId, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + CampaignLockTimeout;
        while (true)
        {
            if (await gate.TryLockCampaignAsync(campaignId, ct) is { } held) return held;
            if (time.GetUtcNow() >= deadline) return null;
            await Task.Delay(TimeSpan.FromMilliseconds(20), time, ct);
        }
    }

    private async Task DropGateAsync(long campaignId)
    {
        try
        {
            await gate.EvictAsync(campaignId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // Redis unreachable: the failover watch drops the gate once it sees its version differ from the store's.
            LogGateDropFailed(campaignId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {CampaignId}: {Action} by {Actor} (version {Version})")]
    private partial void LogChanged(long campaignId, string action, string actor, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: dropping its gate after a failed change failed too ({Reason}); the failover watch drops it")]
    private partial void LogGateDropFailed(long campaignId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Campaign {CampaignId}: {Action} could not be completed; nothing changed, and the gate is rebuilt from the store if it took the change")]
    private partial void LogGateChangeFailed(Exception ex, long campaignId, string action);

    public static CampaignResponse ToResponse(StoredCampaign campaign, CampaignCounts counts, DateTimeOffset now)
    {
        var windows = campaign.Windows
            .Select((w, i) => new WindowResponse(i, w.StartsAt, w.EndsAt, w.Quota, i < counts.IssuedPerWindow.Count ? counts.IssuedPerWindow[i] : 0))
            .ToList();
        var (status, current, next) = CampaignStatus.Compute(campaign, counts, now);
        return new CampaignResponse(
            campaign.Id,
            campaign.Name,
            campaign.TotalQuantity,
            counts.Issued,
            campaign.TotalQuantity - counts.Issued,
            status,
            windows,
            current is int c ? windows[c] : null,
            next is int n && n >= 0 ? windows[n] : null,
            campaign.CouponValidUntil,
            campaign.Benefit,
            campaign.CreatedAt,
            now,
            campaign.Version,
            campaign.PausedAt,
            campaign.CancelledAt,
            campaign.IssuedRevoked ? true : null,
            counts.Redeemed);
    }
}
