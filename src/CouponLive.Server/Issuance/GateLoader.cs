using System.Collections.Concurrent;
using CouponLive.Campaigns;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance;

/// <summary>
/// Rebuilds a campaign's gate from the store (the rebuild rule, docs/architecture.md): one loader across all processes
/// (the campaign lock), one load per campaign in this process that every waiting request shares and none of them can
/// cancel (a caller that goes away only stops waiting). Before the snapshot, this process's pending commits of the
/// campaign land and the outbox's admissions are committed, so the snapshot holds them; the snapshot reserves the
/// sequence numbers the new gate hands out above every number handed out before.
/// </summary>
public sealed partial class GateLoader(
    IAdmissionGate gate,
    ICouponStore store,
    CampaignCatalog catalog,
    IssueWriter writer,
    CouponMetrics metrics,
    TimeProvider time,
    IOptions<IssuanceOptions> options,
    ILogger<GateLoader> logger,
    OutboxReconciler? reconciler = null)
{
    private readonly ConcurrentDictionary<long, Lazy<Task<bool>>> _loads = new();

    /// <summary>Loads made (for tests: a shared load counts once).</summary>
    public int Loads => Volatile.Read(ref _loadCount);

    private int _loadCount;

    /// <summary>
    /// True once the campaign's gate is loaded (already, or by the shared load); false when that could not be done
    /// within Issuance:LoadTimeout (Redis or the store unreachable): the caller answers 503.
    /// </summary>
    public Task<bool> EnsureLoadedAsync(long campaignId, CancellationToken ct)
    {
        var load = _loads.GetOrAdd(campaignId, id => new Lazy<Task<bool>>(() => LoadAsync(id)));
        return load.Value.WaitAsync(ct);
    }

    private async Task<bool> LoadAsync(long campaignId)
    {
        // Bounded by the load timeout alone: a stopping process still serves through its drain delay, and the web
        // server's stop waits for the requests that wait on this load.
        using var timeout = new CancellationTokenSource(options.Value.LoadTimeout);
        var ct = timeout.Token;
        try
        {
            while (true)
            {
                if (await gate.IsLoadedAsync(campaignId, ct)) return true;
                var campaignLock = await gate.TryLockCampaignAsync(campaignId, ct);
                if (campaignLock is not null)
                {
                    await using (campaignLock)
                    {
                        if (await gate.IsLoadedAsync(campaignId, ct)) return true;
                        await writer.WhenCampaignSettledAsync(campaignId, ct);
                        if (reconciler is not null) await reconciler.CommitOutboxAsync(campaignId, DateTimeOffset.MaxValue, ct);
                        // The campaign as stored now, not as cached: an operator's change must survive a rebuild.
                        var current = await store.GetCampaignAsync(campaignId, ct)
                            ?? throw new InvalidOperationException($"Campaign {campaignId} vanished.");
                        catalog.Add(current);
                        var snapshot = await store.ReserveGateSnapshotAsync(campaignId, ct);
                        await gate.LoadAsync(current, snapshot, ct);
                        Interlocked.Increment(ref _loadCount);
                        LogGateLoaded(campaignId, snapshot.Coupons.Count, snapshot.NextSequence);
                        return true;
                    }
                }
                await Task.Delay(TimeSpan.FromMilliseconds(20), time, ct); // another process is loading or changing it
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            LogLoadTimedOut(campaignId);
            return false;
        }
        catch (Exception ex)
        {
            metrics.Errors.Add(1, CouponMetrics.Tag("component", "gate_load"));
            LogLoadFailed(ex, campaignId);
            return false;
        }
        finally
        {
            _loads.TryRemove(campaignId, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admission gate for campaign {CampaignId} loaded from the store with {Issued} issued coupons (sequence numbers from {NextSequence})")]
    private partial void LogGateLoaded(long campaignId, int issued, long nextSequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the admission gate of campaign {CampaignId} failed; answering 503")]
    private partial void LogLoadFailed(Exception ex, long campaignId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the admission gate of campaign {CampaignId} did not finish within Issuance:LoadTimeout; answering 503")]
    private partial void LogLoadTimedOut(long campaignId);
}
