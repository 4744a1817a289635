using System.Diagnostics;
using System.Security.Claims;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Dashboard;
using CouponLive.Codes;
using CouponLive.Diagnostics;
using CouponLive.Limits;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// The issue path behind every transport: who may issue for whom (I7), the campaign from the in-process
/// catalog, the decision from the gate, durability from the writer, and the outcome recorded in the
/// metrics and the live view. Only admitted requests (at most the quantity) and retries of holders
/// reach the store.
/// </summary>
public sealed class IssuanceService(
    CampaignCatalog catalog,
    IAdmissionGate gate,
    GateLoader loader,
    GateRepair repair,
    IssueWriter writer,
    CommittedCoupons committed,
    ICouponStore store,
    CouponCodeCodec codec,
    CouponMetrics metrics,
    LiveStats live,
    DependencyBreakers breakers,
    TimeProvider time,
    IOptions<IssuanceOptions> options,
    UserRateLimiter? limiter = null)
{
    /// <summary>
    /// Issues a coupon of campaign <paramref name="campaignId"/> (as the route or message carries it) to the
    /// caller, or, for a service token, to <paramref name="forUser"/>; records the outcome.
    /// </summary>
    public async Task<IssueResult> IssueAsync(string? campaignId, ClaimsPrincipal caller, string? forUser, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await DecideAsync(campaignId, caller, forUser, ct);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcomeName = OutcomeName(result.Status);
        var outcome = CouponMetrics.Tag("outcome", outcomeName);
        metrics.IssueRequests.Add(1, outcome);
        metrics.IssueDuration.Record(elapsed.TotalSeconds, outcome);
        if (result.Campaign is not null) live.Record(result.Campaign.Id, outcomeName, elapsed);
        return result;
    }

    /// <summary>
    /// An issue request turned away for its token (or, <paramref name="rateLimited"/>, by its address's limit on those)
    /// before it reached <see cref="IssueAsync"/>: shown in the campaign's live view, only if this process holds the
    /// campaign already. Anyone can send these for made-up ids, and each id would cost a store read and live figures
    /// kept for 15 minutes (a Redis key per id and second in production mode).
    /// </summary>
    public void RecordRejectedToken(string? campaignId, bool rateLimited = false)
    {
        if (CampaignCatalog.TryParseId(campaignId, out var id) && catalog.TryGetCached(id, out _))
            live.Record(id, rateLimited ? LiveStats.RateLimited : LiveStats.RejectedAuth, null);
    }

    /// <summary>The coupons a user holds, with their campaigns' names.</summary>
    public async Task<MyCoupons> ListCouponsOfAsync(string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var coupons = await store.ListUserCouponsAsync(userId, ct);
        var items = new List<MyCoupon>(coupons.Count);
        foreach (var c in coupons)
        {
            var campaign = await catalog.GetAsync(c.CampaignId, ct);
            items.Add(new MyCoupon(c.Code, c.CampaignId, campaign?.Name ?? "", c.Sequence, c.IssuedAt, campaign?.CouponValidUntil, CouponStatus.Of(c, campaign, now), c.RedeemedAt));
        }
        return new MyCoupons(items);
    }

    /// <summary>The outcome as a metric tag and live-view name (snake_case, as the error codes).</summary>
    public static string OutcomeName(IssueStatus status) => status switch
    {
        IssueStatus.Issued => "issued",
        IssueStatus.AlreadyIssued => "already_issued",
        IssueStatus.NotFound => "not_found",
        IssueStatus.NotOpen => "not_open",
        IssueStatus.Ended => "ended",
        IssueStatus.SoldOut => "sold_out",
        IssueStatus.WindowSoldOut => "window_sold_out",
        IssueStatus.Forbidden => LiveStats.RejectedAuth,
        IssueStatus.InvalidUser => "invalid_request",
        IssueStatus.RateLimited => LiveStats.RateLimited,
        IssueStatus.Paused => "paused",
        IssueStatus.Cancelled => "cancelled",
        _ => "unavailable",
    };

    private async Task<IssueResult> DecideAsync(string? campaignIdText, ClaimsPrincipal caller, string? forUser, CancellationToken ct)
    {
        // I7: a user issues for themself; only a service token acts for a named user.
        var userId = caller.UserId();
        var forbidden = false;
        if (!string.IsNullOrEmpty(forUser) && forUser != userId)
        {
            if (!caller.IsInRole(Roles.Service)) forbidden = true;
            else if (!Principals.IsAcceptableUserId(forUser)) return new IssueResult(IssueStatus.InvalidUser);
            else userId = forUser;
        }

        // First and cheapest: a flood from one user is answered before anything else is looked at.
        var limited = limiter is not null && !limiter.TryAcquire(userId, out var retryAfter) ? retryAfter : (TimeSpan?)null;

        var parsed = CampaignCatalog.TryParseId(campaignIdText, out var campaignId);
        // A flooding user is refused from memory: no store read for an id this process does not hold.
        if (limited is not null)
            return new IssueResult(IssueStatus.RateLimited, parsed && catalog.TryGetCached(campaignId, out var cached) ? cached : null, RetryAfter: limited);
        var campaign = parsed ? await catalog.GetAsync(campaignId, ct) : null;
        if (campaign is null) return new IssueResult(IssueStatus.NotFound);
        if (forbidden) return new IssueResult(IssueStatus.Forbidden, campaign);

        // A winner clicking again whose row this process saw committed: the store's answer stands (a stored coupon
        // is never deleted), so neither the gate nor the store is asked. The holders of a cancelled-and-revoked
        // campaign are told so by the gate.
        if (campaign.State != GateState.Revoked && committed.Find(campaign.Id, userId) is { } known)
            return new IssueResult(IssueStatus.AlreadyIssued, campaign, known);

        // Fail fast and shed load before anyone is admitted: while the store is down or far behind, an
        // admission could only wait, so the request answers 503 now and the client retries.
        if (breakers.Store.IsRefusing) return Shed(campaign, "store_circuit_open");
        if (writer.IsFull) return Shed(campaign, "writer_queue_full");

        var admission = await gate.AdmitAsync(campaign, userId, ct);
        if (admission.Outcome == AdmissionOutcome.NotLoaded)
        {
            if (!await loader.EnsureLoadedAsync(campaign.Id, ct)) return new IssueResult(IssueStatus.Unavailable, campaign);
            admission = await gate.AdmitAsync(campaign, userId, ct);
        }

        return admission.Outcome switch
        {
            AdmissionOutcome.Admitted or AdmissionOutcome.AlreadyAdmitted => await CommitAsync(campaign, userId, admission),
            AdmissionOutcome.NotOpen => new IssueResult(IssueStatus.NotOpen, campaign, OpensAt: admission.OpensAt),
            AdmissionOutcome.Ended => new IssueResult(IssueStatus.Ended, campaign),
            AdmissionOutcome.SoldOut => new IssueResult(IssueStatus.SoldOut, campaign),
            AdmissionOutcome.WindowSoldOut => new IssueResult(IssueStatus.WindowSoldOut, campaign, OpensAt: admission.OpensAt),
            AdmissionOutcome.Paused => new IssueResult(IssueStatus.Paused, campaign),
            AdmissionOutcome.Cancelled => new IssueResult(IssueStatus.Cancelled, campaign),
            _ => new IssueResult(IssueStatus.Unavailable, campaign),
        };
    }

    private async Task<IssueResult> CommitAsync(StoredCampaign campaign, string userId, Admission admission)
    {
        var coupon = new IssuedCoupon(campaign.Id, userId, admission.Sequence, codec.Encode(campaign.Id, admission.Sequence), admission.At, admission.Source);
        CommitOutcome outcome;
        try
        {
            // Not cancelled with the request: the commit must finish even if the client went away. The wait
            // ends early when the store's circuit opens (the commit still goes on, and a retry finds it).
            outcome = await writer.CommitAsync(coupon, admission.OutboxId).WaitAsync(options.Value.CommitTimeout, breakers.Store.Broken);
        }
        catch (Exception ex) when (ex is TimeoutException or StoreUnavailableException or OperationCanceledException)
        {
            return new IssueResult(IssueStatus.Unavailable, campaign);
        }

        switch (await repair.AfterCommitAsync(coupon, admission, outcome))
        {
            case CommitVerdict.Issued:
                // This admission's row, written by this call or by an earlier try of the same admission
                // (a lost acknowledgement, the outbox reconciler): a fresh admission is "issued", a retry "already".
                committed.Remember(outcome.Coupon!);
                var status = admission.Outcome == AdmissionOutcome.Admitted ? IssueStatus.Issued : IssueStatus.AlreadyIssued;
                return new IssueResult(status, campaign, outcome.Coupon);
            case CommitVerdict.HeldBefore:
                // The store knew the user with another coupon: that one is theirs (the gate now knows it too).
                committed.Remember(outcome.Coupon!);
                return new IssueResult(IssueStatus.AlreadyIssued, campaign, outcome.Coupon);
            default:
                return new IssueResult(IssueStatus.Unavailable, campaign);
        }
    }

    private IssueResult Shed(StoredCampaign campaign, string reason)
    {
        metrics.Shed.Add(1, CouponMetrics.Tag("reason", reason));
        return new IssueResult(IssueStatus.Unavailable, campaign);
    }

}
