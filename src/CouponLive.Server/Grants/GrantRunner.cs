using System.Threading.Channels;
using CouponLive.Codes;
using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Grants;

/// <summary>
/// Carries out unfinished grants, in every process: a grant is worked on by the process holding its lease (the
/// gate's, so across processes), a chunk of users at a time: admitted by the gate with the crowd's rules but no
/// window, committed by the group-commit writer like any issue, and their outcomes recorded in one store
/// transaction. A gate admission carries the grant's number, so after a crash the replayed chunk tells its own
/// admissions ("issued") from coupons users held before ("already held"), and nothing is issued twice.
/// </summary>
public sealed partial class GrantRunner(
    ICouponStore store,
    IAdmissionGate gate,
    GateLoader loader,
    GateRepair repair,
    IssueWriter writer,
    CouponCodeCodec codec,
    IOptions<GrantOptions> options,
    IOptions<IssuanceOptions> issuanceOptions,
    TimeProvider time,
    ILogger<GrantRunner> logger) : BackgroundService
{
    // One pending wake at most: further wakes before the runner looks are dropped, never an exception (two grants
    // created at once both wake it; a semaphore's check-then-release let the second throw SemaphoreFullException).
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Looks for work now instead of at the next poll (a grant was just created here).</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var grant in await store.ListUnfinishedGrantsAsync(stoppingToken))
                    await RunAsync(grant, stoppingToken);
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store or Redis is down: the grants wait (their progress is stored); said once per outage.
                if (!failing) LogRunFailed(ex);
                failing = true;
            }
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            poll.CancelAfter(options.Value.PollInterval);
            try
            {
                if (await _wake.Reader.WaitToReadAsync(poll.Token)) _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // the poll interval passed without a wake
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Works on the grant while this process holds its lease (half its time, then lets others have a turn).</summary>
    private async Task RunAsync(GrantRecord grant, CancellationToken ct)
    {
        var lease = await gate.TryLeaseAsync(grant.CampaignId, "grant:" + grant.GrantNo, options.Value.LeaseTime, ct);
        if (lease is null) return;
        await using (lease)
        {
            var until = time.GetUtcNow() + options.Value.LeaseTime / 2;
            while (time.GetUtcNow() < until && await RunChunkAsync(grant, ct)) { }
        }
    }

    /// <summary>Decides the next users; false when nothing more can be done now (done, paused, or a dependency failing).</summary>
    private async Task<bool> RunChunkAsync(GrantRecord grant, CancellationToken ct)
    {
        var users = await store.ListGrantUsersAsync(grant.GrantNo, -1, options.Value.ChunkSize, pendingOnly: true, ct);
        if (users.Count == 0)
        {
            await store.RecordGrantOutcomesAsync(grant.GrantNo, [], time.GetUtcNow(), ct); // marks it done
            return false;
        }
        var campaign = await store.GetCampaignAsync(grant.CampaignId, ct);
        if (campaign is null || campaign.State == GateState.Paused || writer.IsFull) return false; // a pause holds grants too
        if (!await loader.EnsureLoadedAsync(campaign.Id, ct)) return false;

        var admissions = await gate.AdmitGrantAsync(campaign, grant.GrantNo, [.. users.Select(u => u.UserId)], ct);
        var decided = new List<GrantUser>(users.Count);
        var commits = new List<(GrantUser User, Task<CommitOutcome> Commit, IssuedCoupon Coupon, Admission Admission)>();
        for (var i = 0; i < users.Count; i++)
        {
            var (user, a) = (users[i], admissions[i]);
            switch (a.Outcome)
            {
                // Admitted now, or by this grant before an interruption: committed (idempotently) as its coupon.
                case AdmissionOutcome.Admitted:
                case AdmissionOutcome.AlreadyAdmitted when a.Source == CouponSource.Grant(grant.GrantNo):
                    var coupon = new IssuedCoupon(campaign.Id, user.UserId, a.Sequence, codec.Encode(campaign.Id, a.Sequence), a.At, a.Source);
                    commits.Add((user, writer.CommitAsync(coupon, a.OutboxId), coupon, a));
                    break;
                case AdmissionOutcome.AlreadyAdmitted:
                    decided.Add(user with { Outcome = GrantOutcome.AlreadyHeld, Code = codec.Encode(campaign.Id, a.Sequence) });
                    break;
                case AdmissionOutcome.SoldOut:
                    decided.Add(user with { Outcome = GrantOutcome.SoldOut });
                    break;
                case AdmissionOutcome.Cancelled:
                    decided.Add(user with { Outcome = GrantOutcome.Cancelled });
                    break;
                // Paused, not loaded or unavailable: left for a later turn.
            }
        }

        try
        {
            await Task.WhenAll(commits.Select(c => c.Commit)).WaitAsync(issuanceOptions.Value.CommitTimeout, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Not committed in time: record what was decided; the rest is replayed on a later turn (exactly, see above).
            LogCommitsPending(grant.GrantNo, commits.Count(c => !c.Commit.IsCompletedSuccessfully));
        }
        foreach (var (user, commit, coupon, admission) in commits)
        {
            if (!commit.IsCompletedSuccessfully) continue;
            var outcome = commit.Result;
            switch (await repair.AfterCommitAsync(coupon, admission, outcome))
            {
                case CommitVerdict.Issued:
                    decided.Add(user with { Outcome = GrantOutcome.Issued, Code = outcome.Coupon!.Code });
                    break;
                case CommitVerdict.HeldBefore:
                    decided.Add(user with { Outcome = GrantOutcome.AlreadyHeld, Code = outcome.Coupon!.Code }); // the store knew a holder the gate did not
                    break;
                // Refused: the gate is rebuilt, and the user is decided again on a later turn.
            }
        }
        if (decided.Count == 0) return false;
        var recorded = await store.RecordGrantOutcomesAsync(grant.GrantNo, decided, time.GetUtcNow(), ct);
        if (recorded.DoneAt is not null) LogDone(grant.GrantNo, grant.GrantId, recorded.Issued, recorded.AlreadyHeld, recorded.SoldOut, recorded.Invalid);
        return recorded.DoneAt is null && decided.Count == users.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Grant {GrantNo} ({GrantId}) done: {Issued} issued, {AlreadyHeld} already held, {SoldOut} sold out, {Invalid} invalid")]
    private partial void LogDone(int grantNo, string grantId, int issued, int alreadyHeld, int soldOut, int invalid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grant {GrantNo}: {Count} commits not confirmed in time; they are replayed on the next turn")]
    private partial void LogCommitsPending(int grantNo, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Running grants failed; they resume when the store and the gate answer")]
    private partial void LogRunFailed(Exception ex);
}
