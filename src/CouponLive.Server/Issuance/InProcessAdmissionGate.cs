using System.Collections.Concurrent;
using CouponLive.Storage;

namespace CouponLive.Issuance;

/// <summary>
/// Embedded-mode gate: one lock per campaign around a few counters and a holder map.
/// Same decision order as the Redis script: holder, stock, window time, window quota.
/// </summary>
public sealed class InProcessAdmissionGate(TimeProvider time) : IAdmissionGate
{
    private readonly ConcurrentDictionary<long, CampaignGate> _campaigns = new();
    private readonly ConcurrentDictionary<long, SemaphoreSlim> _loadLocks = new();
    private readonly ConcurrentDictionary<(long, string), SemaphoreSlim> _leases = new();

    public ValueTask<Admission> AdmitAsync(StoredCampaign campaign, string userId, CancellationToken ct)
    {
        if (!_campaigns.TryGetValue(campaign.Id, out var gate))
            return ValueTask.FromResult(new Admission(AdmissionOutcome.NotLoaded));
        lock (gate)
        {
            return ValueTask.FromResult(gate.Admit(userId, GateClock.Now(time)));
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
            var now = GateClock.Now(time);
            return ValueTask.FromResult<IReadOnlyList<Admission>>([.. userIds.Select(u => gate.Admit(u, now, grantNo))]);
        }
    }

    public ValueTask<IAsyncDisposable?> TryLeaseAsync(long campaignId, string name, TimeSpan ttl, CancellationToken ct)
    {
        // One process: a semaphore per lease name, taken without waiting (ttl only matters across processes).
        var lease = _leases.GetOrAdd((campaignId, name), _ => new SemaphoreSlim(1, 1));
        return ValueTask.FromResult<IAsyncDisposable?>(lease.Wait(0, CancellationToken.None) ? new Release(lease) : null);
    }

    public ValueTask<GateChange> ChangeAsync(StoredCampaign campaign, bool endCurrentWindow, CancellationToken ct)
    {
        if (!_campaigns.TryGetValue(campaign.Id, out var gate))
            return ValueTask.FromResult(new GateChange(GateChangeStatus.NotLoaded));
        lock (gate)
        {
            return ValueTask.FromResult(gate.Change(campaign, endCurrentWindow, GateClock.Now(time)));
        }
    }

    public ValueTask EvictAsync(long campaignId, CancellationToken ct)
    {
        _campaigns.TryRemove(campaignId, out _);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<IAsyncDisposable?> TryLockForLoadAsync(long campaignId, CancellationToken ct)
    {
        var gate = _loadLocks.GetOrAdd(campaignId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class CampaignGate
    {
        private readonly Dictionary<string, (long Sequence, DateTimeOffset At, int Window)> _holders;
        private WindowTable _windows;
        private int _total;
        private GateState _state;
        private int[] _issuedPerWindow;
        private int _issued;
        private long _lastSequence;

        public CampaignGate(StoredCampaign campaign, GateSnapshot snapshot)
        {
            _windows = new WindowTable(campaign.Windows);
            _total = campaign.TotalQuantity;
            _state = campaign.State;
            _issuedPerWindow = new int[campaign.Windows.Count];
            _holders = new Dictionary<string, (long, DateTimeOffset, int)>(snapshot.Coupons.Count, StringComparer.Ordinal);
            foreach (var c in snapshot.Coupons)
            {
                _holders[c.UserId] = (c.Sequence, c.IssuedAt, c.WindowIndex);
                if (c.WindowIndex >= 0) _issuedPerWindow[c.WindowIndex]++; // a granted coupon belongs to no window
            }
            _issued = snapshot.Coupons.Count;
            _lastSequence = snapshot.MaxSequence;
        }

        /// <summary>With <paramref name="grantNo"/>: for that bulk grant, windows ignored (grant.lua's rules).</summary>
        public Admission Admit(string userId, DateTimeOffset now, int grantNo = 0)
        {
            if (_state == GateState.Revoked)
                return new Admission(AdmissionOutcome.Cancelled);
            if (_holders.TryGetValue(userId, out var held))
                return new Admission(AdmissionOutcome.AlreadyAdmitted, held.Sequence, held.At, held.Window);
            if (_state != GateState.Open)
                return new Admission(_state == GateState.Paused ? AdmissionOutcome.Paused : AdmissionOutcome.Cancelled);
            if (_issued >= _total)
                return new Admission(AdmissionOutcome.SoldOut);
            if (grantNo > 0)
            {
                var granted = ++_lastSequence;
                _issued++;
                _holders.Add(userId, (granted, now, -grantNo));
                return new Admission(AdmissionOutcome.Admitted, granted, now, -grantNo);
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
            _issued++;
            _issuedPerWindow[window]++;
            _holders.Add(userId, (sequence, now, window));
            return new Admission(AdmissionOutcome.Admitted, sequence, now, window);
        }

        /// <summary>Same rules as change.lua: refuse a total below the admitted count; end the open window a millisecond after now.</summary>
        public GateChange Change(StoredCampaign campaign, bool endCurrentWindow, DateTimeOffset now)
        {
            if (campaign.TotalQuantity < _issued) return new GateChange(GateChangeStatus.BelowIssued, now, _issued);
            var windows = campaign.Windows;
            var (ended, endedAt) = (-1, default(DateTimeOffset));
            if (endCurrentWindow)
            {
                ended = new WindowTable(windows).Locate(now).Window;
                if (ended < 0) return new GateChange(GateChangeStatus.NoCurrentWindow, now, _issued);
                endedAt = now.AddMilliseconds(1);
                windows = [.. windows.Select((w, i) => i == ended ? w with { EndsAt = endedAt } : w)];
            }
            _windows = new WindowTable(windows);
            _total = campaign.TotalQuantity;
            _state = campaign.State;
            // Counts stay with their index: started windows keep their place, later ones have none yet.
            var counts = new int[windows.Count];
            Array.Copy(_issuedPerWindow, counts, Math.Min(counts.Length, _issuedPerWindow.Length));
            _issuedPerWindow = counts;
            return new GateChange(GateChangeStatus.Applied, now, _issued, ended, endedAt);
        }
    }
}
