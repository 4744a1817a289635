using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using CouponLive.Campaigns;
using CouponLive.Diagnostics;
using CouponLive.Storage;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Production-mode gate: all state of a campaign lives in Redis under the hash tag {c:id} and is changed only by its
/// scripts, one atomic call each, with Redis's clock (I4). Requests for the same campaign that arrive while a call is
/// in flight wait for the next call, so a crowd costs one round trip per batch and an idle request adds no wait. A
/// campaign missing any of its five keys is never answered from: the scripts drop its meta hash, and it is rebuilt.
/// </summary>
public sealed partial class RedisAdmissionGate(
    IConnectionMultiplexer redis,
    RedisScripts scripts,
    RedisKeys keys,
    IOptions<RedisGateOptions> gateOptions,
    ICouponStore store,
    CouponMetrics metrics,
    DependencyBreakers breakers,
    TimeProvider time,
    ILogger<RedisAdmissionGate> logger) : IAdmissionGate, IAdmissionOutbox
{
    private static readonly Admission Unavailable = new(AdmissionOutcome.Unavailable);
    private static readonly Admission SoldOut = new(AdmissionOutcome.SoldOut);
    private static readonly Admission NotLoaded = new(AdmissionOutcome.NotLoaded);

    // An outbox entry of this process not released after this long belongs to the reconciler, which commits it anyway.
    private static readonly TimeSpan UnstoredKept = TimeSpan.FromMinutes(1);

    private readonly RedisGateOptions _options = gateOptions.Value;
    private readonly DependencyBreaker _breaker = breakers.Redis;
    private readonly ConcurrentDictionary<long, CampaignQueue> _queues = ObservedQueues(metrics);
    private readonly SoldOutMemory _soldOut = new(gateOptions.Value.SoldOutMemory, time);

    // Outbox entries of this process's batches -> their admissions without a final commit outcome yet. An entry goes
    // when the count reaches zero (ReleaseOutboxAsync); the reconciler sweeps entries a dead process left.
    private readonly ConcurrentDictionary<string, int> _unstored = new();
    private long _unstoredSweptAt = time.GetTimestamp();

    /// <summary>Outbox entries this process still counts (for tests and the memory bound).</summary>
    public int UnreleasedOutboxEntries => _unstored.Count;

    /// <summary>Campaigns with an admission queue in this process (idle queues go).</summary>
    public int HeldCampaigns => _queues.Count;

    public ValueTask<Admission> AdmitAsync(StoredCampaign campaign, string userId, CancellationToken ct)
    {
        if (_breaker.IsRefusing) return Shed("redis_circuit_open");
        if (_soldOut.WasToldSoldOut(campaign.Id, campaign.Version, userId)) return new ValueTask<Admission>(SoldOut);
        var pending = new PendingAdmission(userId, campaign.Version);
        while (true)
        {
            var queue = _queues.GetOrAdd(campaign.Id, static _ => new CampaignQueue());
            bool start;
            lock (queue)
            {
                if (queue.Retired) continue; // drained and removed meanwhile: take the campaign's new queue
                // Bounded: while Redis is slow, requests past the bound answer 503 now instead of growing the queue.
                if (queue.Pending.Count >= _options.MaxQueuedPerCampaign) return Shed("gate_queue_full");
                queue.Pending.Enqueue(pending);
                start = !queue.Running;
                queue.Running = true;
            }
            if (start) _ = DrainAsync(campaign.Id, queue);
            return new ValueTask<Admission>(pending.Done.Task);
        }
    }

    private async Task DrainAsync(long campaignId, CampaignQueue queue)
    {
        var batch = new List<PendingAdmission>(_options.MaxBatch);
        while (true)
        {
            batch.Clear();
            lock (queue)
            {
                while (batch.Count < _options.MaxBatch && queue.Pending.TryDequeue(out var p)) batch.Add(p);
                if (batch.Count == 0)
                {
                    // Idle: the queue goes, so a long-lived process keeps none for campaigns nobody asks for.
                    queue.Running = false;
                    queue.Retired = true;
                    _queues.TryRemove(new KeyValuePair<long, CampaignQueue>(campaignId, queue));
                    return;
                }
            }
            var outcome = await _breaker.ExecuteAsync(static async s =>
            {
                await s.gate.DecideAsync(s.campaignId, s.batch);
                return true;
            }, (gate: this, campaignId, batch));
            if (outcome.Exception is { } ex)
            {
                // A refusal of the open circuit is the expected answer while Redis is down: counted, not logged.
                if (ex is not BrokenCircuitException)
                {
                    metrics.Errors.Add(1, CouponMetrics.Tag("component", "redis"));
                    LogGateFailed(ex, campaignId, batch.Count);
                }
                foreach (var p in batch) p.Done.TrySetResult(Unavailable);
            }
        }
    }

    private async Task DecideAsync(long campaignId, List<PendingAdmission> batch)
    {
        var users = new RedisValue[batch.Count];
        for (var i = 0; i < batch.Count; i++) users[i] = batch[i].UserId;
        var started = Stopwatch.GetTimestamp();
        var result = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.Admit, keys.Gate(campaignId), users))!;

        metrics.GateCallDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.GateBatchSize.Record(batch.Count); // count = script calls, sum = requests decided: their ratio is the coalescing
        if (IsNotLoaded(campaignId, result))
        {
            foreach (var p in batch) p.Done.TrySetResult(NotLoaded);
            return;
        }
        var answers = ParseAnswers(result, batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (answers[i].Outcome == AdmissionOutcome.SoldOut) _soldOut.Remember(campaignId, batch[i].Version, batch[i].UserId);
            batch[i].Done.TrySetResult(answers[i]);
        }
    }

    /// <summary>A script's "not loaded" ({-1}) or "a part was missing, dropped for a rebuild" ({-2}, logged and counted).</summary>
    private bool IsNotLoaded(long campaignId, RedisResult[] result)
    {
        var status = (long)result[0];
        if (status == -2)
        {
            _soldOut.Forget(campaignId);
            metrics.GateEvictions.Add(1, CouponMetrics.Tag("reason", "key_missing"));
            LogKeyMissing(campaignId);
        }
        return status is -1 or -2;
    }

    /// <summary>
    /// The answers of an admit.lua or grant.lua call, one per user. Its admissions are counted against its outbox
    /// entry before anyone is answered, so no commit can be reported stored first.
    /// </summary>
    private Admission[] ParseAnswers(RedisResult[] result, int count)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)result[0]);
        var nextStartMs = (long)result[1];
        DateTimeOffset? next = nextStartMs < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(nextStartMs);
        var outboxId = (string?)result[2];
        var answers = new Admission[count];
        var admitted = 0;
        for (var i = 0; i < count; i++)
        {
            answers[i] = ParseAnswer((string)result[i + 3]!, now, next, outboxId);
            if (answers[i].Outcome == AdmissionOutcome.Admitted) admitted++;
        }
        if (admitted > 0) _unstored[outboxId!] = admitted;
        return answers;
    }

    public async ValueTask<IReadOnlyList<Admission>> AdmitGrantAsync(StoredCampaign campaign, int grantNo, IReadOnlyList<string> userIds, CancellationToken ct)
    {
        var args = new RedisValue[userIds.Count + 1];
        args[0] = grantNo;
        for (var i = 0; i < userIds.Count; i++) args[i + 1] = userIds[i];
        var result = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.Grant, keys.Gate(campaign.Id), args))!;
        if (IsNotLoaded(campaign.Id, result)) return [.. userIds.Select(_ => NotLoaded)];
        return ParseAnswers(result, userIds.Count);
    }

    public async ValueTask SettleHolderAsync(long campaignId, string userId, Admission admitted, IssuedCoupon stored, CancellationToken ct)
    {
        _soldOut.Forget(campaignId);
        await scripts.EvaluateAsync(RedisScripts.Settle, keys.Gate(campaignId),
            [userId, HolderValue(admitted.Sequence, admitted.At, admitted.Source), HolderValue(stored.Sequence, stored.IssuedAt, stored.Source),
             admitted.Source.WindowIndex ?? -1, stored.Source.WindowIndex ?? -1]);
    }

    public async ValueTask<IAsyncDisposable?> TryLeaseAsync(long campaignId, string name, TimeSpan ttl, CancellationToken ct)
    {
        var key = keys.Campaign(campaignId, "lease:" + name);
        var token = Guid.NewGuid().ToString("N");
        var db = redis.GetDatabase();
        return await db.LockTakeAsync(key, token, ttl, CommandFlags.DemandMaster) ? new LoadLock(db, key, token) : null;
    }

    private static Admission ParseAnswer(string answer, DateTimeOffset now, DateTimeOffset? next, string? outboxId) => answer[0] switch
    {
        'A' => Holder(AdmissionOutcome.Admitted, answer.AsSpan(1)) with { OutboxId = outboxId },
        'H' => Holder(AdmissionOutcome.AlreadyAdmitted, answer.AsSpan(1)),
        'S' => SoldOut,
        'N' => new Admission(AdmissionOutcome.NotOpen, OpensAt: next),
        'E' => new Admission(AdmissionOutcome.Ended),
        'W' => new Admission(AdmissionOutcome.WindowSoldOut, OpensAt: next),
        'P' => new Admission(AdmissionOutcome.Paused),
        'C' => new Admission(AdmissionOutcome.Cancelled),
        _ => throw new InvalidOperationException($"Unexpected gate answer '{answer}' at {now:O}."),
    };

    /// <summary>Parses a holder value, "seq:atMs:source" (as in the holders hash and the outbox; source as <see cref="CouponSource.Encoded"/>).</summary>
    private static Admission Holder(AdmissionOutcome outcome, ReadOnlySpan<char> parts)
    {
        var first = parts.IndexOf(':');
        var second = first + 1 + parts[(first + 1)..].IndexOf(':');
        return new Admission(outcome,
            long.Parse(parts[..first], CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[(first + 1)..second], CultureInfo.InvariantCulture)),
            CouponSource.Decode(int.Parse(parts[(second + 1)..], CultureInfo.InvariantCulture)));
    }

    private static string HolderValue(long sequence, DateTimeOffset at, CouponSource source) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence}:{at.ToUnixTimeMilliseconds()}:{source.Encoded}");

    public async ValueTask<bool> IsLoadedAsync(long campaignId, CancellationToken ct) =>
        await redis.GetDatabase().KeyExistsAsync(keys.Campaign(campaignId, "meta"), CommandFlags.DemandMaster);

    public async ValueTask LoadAsync(StoredCampaign campaign, GateSnapshot snapshot, CancellationToken ct)
    {
        var id = campaign.Id;
        _soldOut.Forget(id);
        var gateKeys = keys.Gate(id);
        // Meta goes first out and last in (load-meta.lua): until it exists every script call answers "not loaded".
        await scripts.RetryTryAgainAsync(db => db.KeyDeleteAsync(gateKeys, CommandFlags.DemandMaster));

        var db = redis.GetDatabase();
        await db.SortedSetAddAsync(keys.Campaign(id, "windows"),
            WindowEntries(campaign.Windows).Select(e => new SortedSetEntry(e.Member, e.StartMs)).ToArray(), CommandFlags.DemandMaster);

        // A granted coupon belongs to no window; one of a window the campaign no longer has counts for the campaign only.
        var perWindow = new int[campaign.Windows.Count];
        foreach (var c in snapshot.Coupons)
            if (c.Source.WindowIndex is { } w && w < perWindow.Length) perWindow[w]++;
        await db.HashSetAsync(keys.Campaign(id, "wcount"), perWindow.Select((n, i) => new HashEntry(i, n)).ToArray(), CommandFlags.DemandMaster);

        foreach (var chunk in snapshot.Coupons.Chunk(1_000))
        {
            await db.HashSetAsync(keys.Campaign(id, "holders"),
                chunk.Select(c => new HashEntry(c.UserId, HolderValue(c.Sequence, c.IssuedAt, c.Source))).ToArray(), CommandFlags.DemandMaster);
        }

        var node = await scripts.EvaluateAsync(RedisScripts.LoadMeta, gateKeys,
            [campaign.TotalQuantity, snapshot.Coupons.Count, snapshot.NextSequence - 1, ExpireAtMs(campaign), StateValue(campaign.State), campaign.Version]);
        LogLoaded(id, snapshot.Coupons.Count, (string?)node);
    }

    public async ValueTask<GateChange> ChangeAsync(StoredCampaign before, StoredCampaign after, bool endCurrentWindow, CancellationToken ct)
    {
        _soldOut.Forget(after.Id);
        var args = new List<RedisValue>(6 + before.Windows.Count + after.Windows.Count)
        {
            after.TotalQuantity, StateValue(after.State), endCurrentWindow ? 1 : 0, ExpireAtMs(after), after.Version, before.Windows.Count,
        };
        foreach (var w in before.Windows) args.Add(WindowArgument(w));
        foreach (var w in after.Windows) args.Add(WindowArgument(w));
        var r = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.Change, keys.Gate(after.Id), [.. args]))!;
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)r[1]);
        return (long)r[0] switch
        {
            0 => new GateChange(GateChangeStatus.Applied, now, (int)(long)r[2], (int)(long)r[3], DateTimeOffset.FromUnixTimeMilliseconds((long)r[4])),
            -1 => new GateChange(GateChangeStatus.NotLoaded, now, 0, (int)(long)r[3], DateTimeOffset.FromUnixTimeMilliseconds((long)r[4])),
            -2 => new GateChange(GateChangeStatus.BelowIssued, now, (int)(long)r[2]),
            -3 => new GateChange(GateChangeStatus.NoCurrentWindow, now),
            _ => new GateChange(GateChangeStatus.WindowStarted, now, Refusal: new WindowRefusal((int)(long)r[5], (WindowRefusalKind)(int)(long)r[6])),
        };
    }

    private static string WindowArgument(CampaignWindow w) =>
        string.Create(CultureInfo.InvariantCulture, $"{w.StartsAt.ToUnixTimeMilliseconds()}:{w.EndsAt.ToUnixTimeMilliseconds()}:{w.Quota ?? -1}");

    /// <summary>The windows zset's entries: score = start, member = "index:endMs:quota" (quota -1 = none).</summary>
    private static IEnumerable<(long StartMs, string Member)> WindowEntries(IReadOnlyList<CampaignWindow> windows) =>
        windows.Select((w, i) => (w.StartsAt.ToUnixTimeMilliseconds(),
            string.Create(CultureInfo.InvariantCulture, $"{i}:{w.EndsAt.ToUnixTimeMilliseconds()}:{w.Quota ?? -1}")));

    /// <summary>The gate keys live until a while after the last window ends.</summary>
    private long ExpireAtMs(StoredCampaign campaign)
    {
        var lastEnd = campaign.Windows.Max(w => w.EndsAt);
        var now = time.GetUtcNow();
        return ((lastEnd > now ? lastEnd : now) + _options.KeyTtlAfterEnd).ToUnixTimeMilliseconds();
    }

    private static string StateValue(GateState state) => state switch
    {
        GateState.Paused => "p",
        GateState.Cancelled => "c",
        GateState.Revoked => "r",
        _ => "",
    };

    public async ValueTask EvictAsync(long campaignId, CancellationToken ct)
    {
        _soldOut.Forget(campaignId);
        await redis.GetDatabase().KeyDeleteAsync(keys.Campaign(campaignId, "meta"), CommandFlags.DemandMaster);
    }

    public void Forget(long campaignId) => _soldOut.Forget(campaignId);

    /// <summary>
    /// check-owner.lua: evicts the campaign's state if the node holding it is not the one that loaded it, or if its
    /// version has differed from the store's (<paramref name="storeVersion"/>) on two checks in a row with no change in
    /// progress (<paramref name="suspect"/>: the version the last check answered as suspect). The script's answer.
    /// </summary>
    public async ValueTask<string> CheckStateAsync(long campaignId, int storeVersion, string? suspect)
    {
        var answer = (string?)await scripts.EvaluateAsync(RedisScripts.CheckOwner, [keys.Campaign(campaignId, "meta"), keys.Lock(campaignId)],
            [storeVersion, suspect ?? ""]) ?? "";
        if (answer.StartsWith("evicted:", StringComparison.Ordinal)) _soldOut.Forget(campaignId);
        return answer;
    }

    public async ValueTask<IAsyncDisposable?> TryLockCampaignAsync(long campaignId, CancellationToken ct)
    {
        var key = keys.Lock(campaignId);
        var token = Guid.NewGuid().ToString("N");
        var db = redis.GetDatabase();
        return await db.LockTakeAsync(key, token, TimeSpan.FromSeconds(30), CommandFlags.DemandMaster) ? new LoadLock(db, key, token) : null;
    }

    public async ValueTask<IReadOnlyList<OutboxEntry>> ReadOutboxAsync(long campaignId, DateTimeOffset admittedBefore, int maxEntries, CancellationToken ct)
    {
        var maxId = string.Create(CultureInfo.InvariantCulture, $"{admittedBefore.ToUnixTimeMilliseconds()}-18446744073709551615");
        var stream = await redis.GetDatabase().StreamRangeAsync(keys.Campaign(campaignId, "outbox"), "-", maxId, maxEntries, Order.Ascending, CommandFlags.DemandMaster);
        var entries = new List<OutboxEntry>(stream.Length);
        foreach (var e in stream)
        {
            var id = (string)e.Id!;
            var fields = e.Values;
            if (fields.Length > 0 && fields[0].Name == "")
            {
                // One batch's admissions: "" = "b", then user = "seq:atMs:source" pairs (admit.lua).
                for (var i = 1; i < fields.Length; i++) entries.Add(ToEntry(id, campaignId, fields[i].Name!, fields[i].Value!));
            }
            else
            {
                // One admission as the fields u and v, as written by earlier versions.
                var user = fields.FirstOrDefault(f => f.Name == "u").Value;
                var value = fields.FirstOrDefault(f => f.Name == "v").Value;
                if (!user.IsNullOrEmpty && !value.IsNullOrEmpty) entries.Add(ToEntry(id, campaignId, user!, value!));
            }
        }
        return entries;
    }

    private static OutboxEntry ToEntry(string entryId, long campaignId, string user, string value)
    {
        var admission = Holder(AdmissionOutcome.Admitted, value);
        return new OutboxEntry(entryId, campaignId, user, admission.Sequence, admission.At, admission.Source);
    }

    public async ValueTask DeleteOutboxAsync(long campaignId, IReadOnlyList<string> entryIds, CancellationToken ct)
    {
        if (entryIds.Count == 0) return;
        foreach (var id in entryIds) _unstored.TryRemove(id, out _);
        await redis.GetDatabase().StreamDeleteAsync(keys.Campaign(campaignId, "outbox"), entryIds.Select(e => (RedisValue)e).ToArray(), CommandFlags.DemandMaster);
    }

    public async ValueTask ReleaseOutboxAsync(long campaignId, IReadOnlyList<string> outboxIds, CancellationToken ct)
    {
        SweepUnstored();
        List<string>? done = null;
        foreach (var id in outboxIds)
        {
            // Atomic per entry: concurrent groups may release admissions of the same entry. An entry this process no
            // longer counts (swept, or deleted by the reconciler) is not recreated.
            if (!_unstored.TryGetValue(id, out _)) continue;
            if (_unstored.AddOrUpdate(id, 0, static (_, n) => n - 1) <= 0 && _unstored.TryRemove(new KeyValuePair<string, int>(id, 0)))
                (done ??= []).Add(id);
        }
        if (done is not null) await DeleteOutboxAsync(campaignId, done, ct);
    }

    /// <summary>Forgets entries older than <see cref="UnstoredKept"/>: the reconciler commits and deletes what they hold.</summary>
    private void SweepUnstored()
    {
        var now = time.GetTimestamp();
        if (time.GetElapsedTime(Volatile.Read(ref _unstoredSweptAt), now) < UnstoredKept) return;
        Volatile.Write(ref _unstoredSweptAt, now);
        var before = (time.GetUtcNow() - UnstoredKept).ToUnixTimeMilliseconds();
        foreach (var id in _unstored.Keys)
        {
            var dash = id.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && long.TryParse(id.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms < before)
                _unstored.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Campaigns whose gate state may exist: those with a window that ended less than the key lifetime ago,
    /// from the store (a shared Redis set could lose its last additions in a failover).
    /// </summary>
    public async ValueTask<IReadOnlyList<long>> KnownCampaignsAsync(CancellationToken ct) =>
        await store.ListActiveCampaignIdsAsync(time.GetUtcNow() - _options.KeyTtlAfterEnd, ct);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Gate state of campaign {CampaignId} written with {Issued} holders on Redis node {Node}")]
    private partial void LogLoaded(long campaignId, int issued, string? node);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission gate call for campaign {CampaignId} failed ({Count} requests answered 503)")]
    private partial void LogGateFailed(Exception ex, long campaignId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: a key of its gate state was missing (evicted or deleted); the gate is rebuilt from the store")]
    private partial void LogKeyMissing(long campaignId);

    private ValueTask<Admission> Shed(string reason)
    {
        metrics.Shed.Add(1, CouponMetrics.Tag("reason", reason));
        return new ValueTask<Admission>(Unavailable);
    }

    private static ConcurrentDictionary<long, CampaignQueue> ObservedQueues(CouponMetrics metrics)
    {
        var queues = new ConcurrentDictionary<long, CampaignQueue>();
        metrics.Observe("couponlive.gate.queued", "{request}", "Issue requests waiting for their campaign's next admission call",
            () => [new(queues.Values.Sum(q => q.Count))]);
        return queues;
    }

    private sealed class CampaignQueue
    {
        public readonly Queue<PendingAdmission> Pending = new();
        public bool Running;
        public bool Retired; // removed from the dictionary: a request that still found it takes a new one

        public long Count
        {
            get
            {
                lock (this) return Pending.Count;
            }
        }
    }

    private sealed class PendingAdmission(string userId, int version)
    {
        public string UserId { get; } = userId;
        public int Version { get; } = version; // the campaign's, as the request saw it: a "sold out" is remembered for it
        public TaskCompletionSource<Admission> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class LoadLock(IDatabase db, RedisKey key, string token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await db.LockReleaseAsync(key, token);
    }
}
