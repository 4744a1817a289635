using System.Collections.Concurrent;
using CouponLive.Campaigns;
using CouponLive.Storage;

namespace CouponLive.Issuance;

/// <summary>
/// Embedded-mode gate: one lock per campaign around a few counters and a holder map. Same decision order as the
/// Redis script: revoked, holder, paused or cancelled, stock, window time, window quota. Its clock is the process's
/// (<see cref="MillisecondClock"/>): in embedded mode that is the gate's clock.
/// </summary>
public sealed class InProcessAdmissionGate(TimeProvider time) : IAdmissionGate
{
    // Campaign locks by stripe: bounded memory however many campaigns a long-lived process sees.
    private const int LockStripes = 256;

    private readonly ConcurrentDictionary<long, CampaignGate> _campaigns = new();
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, LockStripes).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<(long, string), byte> _leases = new();

    public int HeldCampaigns => _campaigns.Count;

    public ValueTask<Admission> AdmitAsync(StoredCampaign campaign, string userId, CancellationToken ct)
    {
        if (!_campaigns.TryGetValue(campaign.Id, out var gate))
            return ValueTask.FromResult(new Admission(AdmissionOutcome.NotLoaded));
        lock (gate)
        {
            return ValueTask.FromResult(gate.Admit(userId, MillisecondClock.Now(time)));
        }
    }

    public ValueTask<bool> IsLoadedAsync(long campaignId, CancellationToken ct) =>
        ValueTask.FromResult(_campaigns.ContainsKey(campaignId));

    public ValueTask LoadAsync(StoredCampaign campaign, GateSnapshot snapshot, CancellationToken ct)
    {
        _campaigns[campaign.Id] = new CampaignGate(campaign, snapshot);
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<Admission>> AdmitGrantAsync(StoredCampaign campaign, int grantNo, IReadOnlyList<string> userIds, CancellationToken ct)
    {
        if (!_campaigns.TryGetValue(campaign.Id, out var gate))
            return ValueTask.FromResult<IReadOnlyList<Admission>>([.. userIds.Select(_ => new Admission(AdmissionOutcome.NotLoaded))]);
        lock (gate)
        {
            var now = MillisecondClock.Now(time);
            return ValueTask.FromResult<IReadOnlyList<Admission>>([.. userIds.Select(u => gate.Admit(u, now, CouponSource.Grant(grantNo)))]);
        }
    }

    public ValueTask SettleHolderAsync(long campaignId, string userId, Admission admitted, IssuedCoupon stored, CancellationToken ct)
    {
        if (_campaigns.TryGetValue(campaignId, out var gate))
        {
            lock (gate) gate.Settle(userId, admitted, stored);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IAsyncDisposable?> TryLeaseAsync(long campaignId, string name, TimeSpan ttl, CancellationToken ct)
    {
        // One process: a lease is an entry, taken without waiting (ttl only matters across processes).
        var key = (campaignId, name);
        return ValueTask.FromResult<IAsyncDisposable?>(_leases.TryAdd(key, 0) ? new Release(() => _leases.TryRemove(key, out _)) : null);
    }

    public ValueTask<GateChange> ChangeAsync(StoredCampaign before, StoredCampaign after, bool endCurrentWindow, CancellationToken ct)
    {
        if (!_campaigns.TryGetValue(after.Id, out var gate))
            return ValueTask.FromResult(Judge(before, after, endCurrentWindow, MillisecondClock.Now(time), loaded: false, issued: 0).Change);
        lock (gate)
        {
            var now = MillisecondClock.Now(time);
            var (change, windows) = Judge(before, after, endCurrentWindow, now, loaded: true, gate.Issued);
            if (change.Status == GateChangeStatus.Applied) gate.Apply(after, windows);
            return ValueTask.FromResult(change);
        }
    }

    /// <summary>change.lua's decision, in the same order: the window to end, the window rule, the total against the admitted count.</summary>
    private static (GateChange Change, IReadOnlyList<CampaignWindow> Windows) Judge(
        StoredCampaign before, StoredCampaign after, bool endCurrentWindow, DateTimeOffset now, bool loaded, int issued)
    {
        var windows = after.Windows;
        var (ended, endedAt) = (-1, default(DateTimeOffset));
        if (endCurrentWindow)
        {
            ended = new WindowTable(windows).Locate(now).Window;
            if (ended < 0) return (new GateChange(GateChangeStatus.NoCurrentWindow, now), windows);
            endedAt = now.AddMilliseconds(1);
            windows = [.. windows.Select((w, i) => i == ended ? w with { EndsAt = endedAt } : w)];
        }
        if (WindowChangeRule.Check(before.Windows, windows, now) is { } refusal)
            return (new GateChange(GateChangeStatus.WindowStarted, now, Refusal: refusal), windows);
        if (!loaded) return (new GateChange(GateChangeStatus.NotLoaded, now, 0, ended, endedAt), windows);
        if (after.TotalQuantity < issued) return (new GateChange(GateChangeStatus.BelowIssued, now, issued), windows);
        return (new GateChange(GateChangeStatus.Applied, now, issued, ended, endedAt), windows);
    }

    public ValueTask EvictAsync(long campaignId, CancellationToken ct)
    {
        _campaigns.TryRemove(campaignId, out _);
        return ValueTask.CompletedTask;
    }

    public void Forget(long campaignId) => _campaigns.TryRemove(campaignId, out _);

    public async ValueTask<IAsyncDisposable?> TryLockCampaignAsync(long campaignId, CancellationToken ct)
    {
        var stripe = _locks[(int)((ulong)campaignId % LockStripes)];
        return await stripe.WaitAsync(TimeSpan.Zero, ct) ? new Release(() => stripe.Release()) : null;
    }

    private sealed class Release(Action release) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) release();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class CampaignGate
    {
        private readonly Dictionary<string, (long Sequence, DateTimeOffset At, CouponSource Source)> _holders;
        private WindowTable _windows;
        private int _total;
        private GateState _state;
        private int[] _issuedPerWindow;
        private long _lastSequence;

        public CampaignGate(StoredCampaign campaign, GateSnapshot snapshot)
        {
            _windows = new WindowTable(campaign.Windows);
            _total = campaign.TotalQuantity;
            _state = campaign.State;
            _issuedPerWindow = new int[campaign.Windows.Count];
            _holders = new Dictionary<string, (long, DateTimeOffset, CouponSource)>(snapshot.Coupons.Count, StringComparer.Ordinal);
            foreach (var c in snapshot.Coupons)
            {
                _holders[c.UserId] = (c.Sequence, c.IssuedAt, c.Source);
                // A granted coupon belongs to no window; one of a window the campaign no longer has counts for the campaign only.
                if (c.Source.WindowIndex is { } w && w < _issuedPerWindow.Length) _issuedPerWindow[w]++;
            }
            Issued = snapshot.Coupons.Count;
            _lastSequence = snapshot.NextSequence - 1;
        }

        public int Issued { get; private set; }

        /// <summary>With a grant as <paramref name="grant"/>: for that bulk grant, windows ignored (grant.lua's rules).</summary>
        public Admission Admit(string userId, DateTimeOffset now, CouponSource? grant = null)
        {
            if (_state == GateState.Revoked)
                return new Admission(AdmissionOutcome.Cancelled);
            if (_holders.TryGetValue(userId, out var held))
                return new Admission(AdmissionOutcome.AlreadyAdmitted, held.Sequence, held.At, held.Source);
            if (_state != GateState.Open)
                return new Admission(_state == GateState.Paused ? AdmissionOutcome.Paused : AdmissionOutcome.Cancelled);
            if (Issued >= _total)
                return new Admission(AdmissionOutcome.SoldOut);
            if (grant is { } granted)
            {
                var grantedSequence = ++_lastSequence;
                Issued++;
                _holders.Add(userId, (grantedSequence, now, granted));
                return new Admission(AdmissionOutcome.Admitted, grantedSequence, now, granted);
            }

            var (window, next) = _windows.Locate(now);
            if (window < 0)
            {
                return next is null
                    ? new Admission(AdmissionOutcome.Ended)
                    : new Admission(AdmissionOutcome.NotOpen, OpensAt: next);
            }
            if (_windows.Quota(window) is int quota && _issuedPerWindow[window] >= quota)
                return new Admission(AdmissionOutcome.WindowSoldOut, OpensAt: next);

            var sequence = ++_lastSequence;
            Issued++;
            _issuedPerWindow[window]++;
            var source = CouponSource.Window(window);
            _holders.Add(userId, (sequence, now, source));
            return new Admission(AdmissionOutcome.Admitted, sequence, now, source);
        }

        /// <summary>As settle.lua.</summary>
        public void Settle(string userId, Admission admitted, IssuedCoupon stored)
        {
            if (!_holders.TryGetValue(userId, out var held) || held != (admitted.Sequence, admitted.At, admitted.Source)) return;
            _holders[userId] = (stored.Sequence, stored.IssuedAt, stored.Source);
            if (admitted.Source == stored.Source) return;
            if (admitted.Source.WindowIndex is { } from && from < _issuedPerWindow.Length) _issuedPerWindow[from]--;
            if (stored.Source.WindowIndex is { } to && to < _issuedPerWindow.Length) _issuedPerWindow[to]++;
        }

        public void Apply(StoredCampaign campaign, IReadOnlyList<CampaignWindow> windows)
        {
            _windows = new WindowTable(windows);
            _total = campaign.TotalQuantity;
            _state = campaign.State;
            // Counts stay with their index: started windows keep their place, later ones have none yet.
            var counts = new int[windows.Count];
            Array.Copy(_issuedPerWindow, counts, Math.Min(counts.Length, _issuedPerWindow.Length));
            _issuedPerWindow = counts;
        }
    }
}
