using System.Collections.Concurrent;
using System.Diagnostics;
using CouponLive.Diagnostics;
using System.Globalization;
using CouponLive.Storage;
using StackExchange.Redis;

namespace CouponLive.Issuance.Redis;

public sealed class RedisGateOptions
{
    /// <summary>Prefix of every key, so several deployments (or test runs) can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "cl";

    /// <summary>Most users decided by one script call; concurrent requests for a campaign are coalesced up to this.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>
    /// Sequence numbers skipped when a campaign is rebuilt after sales began: admissions still in flight from
    /// before the rebuild keep their numbers, so a number never names two coupons.
    /// </summary>
    public long SequenceGapOnRebuild { get; set; } = 1 << 16;
}

/// <summary>
/// Production-mode gate: all state of a campaign lives in Redis under the hash tag {c:id} and is changed
/// only by admit.lua, one atomic call per batch of users, with Redis's clock (I4). Requests for the same
/// campaign that arrive while a call is in flight wait for the next call, so a crowd costs one round
/// trip per batch and an idle request adds no wait.
/// </summary>
public sealed partial class RedisAdmissionGate(
    IConnectionMultiplexer redis,
    RedisScripts scripts,
    RedisGateOptions options,
    CouponMetrics metrics,
    ILogger<RedisAdmissionGate> logger) : IAdmissionGate
{
    private readonly ConcurrentDictionary<long, CampaignQueue> _queues = new();

    // Outbox entries of this process's batches -> their admissions not yet stored. An entry goes when
    // the count reaches zero (ReleaseOutboxAsync); the reconciler sweeps entries a dead process left.
    private readonly ConcurrentDictionary<string, int> _unstored = new();

    private RedisKey Key(long campaignId, string part) => $"{options.KeyPrefix}:{{c:{campaignId.ToString(CultureInfo.InvariantCulture)}}}:{part}";
    private RedisKey CampaignsKey => $"{options.KeyPrefix}:campaigns";

    public ValueTask<Admission> AdmitAsync(StoredCampaign campaign, string userId, CancellationToken ct)
    {
        var queue = _queues.GetOrAdd(campaign.Id, static _ => new CampaignQueue());
        var pending = new PendingAdmission(userId);
        bool start;
        lock (queue)
        {
            queue.Pending.Enqueue(pending);
            start = !queue.Running;
            queue.Running = true;
        }
        if (start) _ = DrainAsync(campaign.Id, queue);
        return new ValueTask<Admission>(pending.Done.Task);
    }

    private async Task DrainAsync(long campaignId, CampaignQueue queue)
    {
        var batch = new List<PendingAdmission>(options.MaxBatch);
        while (true)
        {
            batch.Clear();
            lock (queue)
            {
                while (batch.Count < options.MaxBatch && queue.Pending.TryDequeue(out var p)) batch.Add(p);
                if (batch.Count == 0)
                {
                    queue.Running = false;
                    return;
                }
            }
            try
            {
                await DecideAsync(campaignId, batch);
            }
            catch (Exception ex)
            {
                metrics.Errors.Add(1, CouponMetrics.Tag("component", "redis"));
                LogGateFailed(ex, campaignId, batch.Count);
                foreach (var p in batch) p.Done.TrySetResult(new Admission(AdmissionOutcome.Unavailable));
            }
        }
    }

    private async Task DecideAsync(long campaignId, List<PendingAdmission> batch)
    {
        var users = new RedisValue[batch.Count];
        for (var i = 0; i < batch.Count; i++) users[i] = batch[i].UserId;
        var started = Stopwatch.GetTimestamp();
        var result = (RedisResult[])(await scripts.EvaluateAsync("admit",
            [Key(campaignId, "meta"), Key(campaignId, "holders"), Key(campaignId, "windows"), Key(campaignId, "wcount"), Key(campaignId, "outbox")],
            users))!;

        metrics.GateCallDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.GateBatchSize.Record(batch.Count); // count = script calls, sum = requests decided: their ratio is the coalescing
        if ((long)result[0] == -1)
        {
            foreach (var p in batch) p.Done.TrySetResult(new Admission(AdmissionOutcome.NotLoaded));
            return;
        }
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)result[0]);
        var nextStartMs = (long)result[1];
        DateTimeOffset? next = nextStartMs < 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(nextStartMs);
        var outboxId = (string?)result[2];
        var answers = new Admission[batch.Count];
        var admitted = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            answers[i] = ParseAnswer((string)result[i + 3]!, now, next, outboxId);
            if (answers[i].Outcome == AdmissionOutcome.Admitted) admitted++;
        }
        // Counted before anyone is answered, so no commit can be reported stored first.
        if (admitted > 0) _unstored[outboxId!] = admitted;
        for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(answers[i]);
    }

    private static Admission ParseAnswer(string answer, DateTimeOffset now, DateTimeOffset? next, string? outboxId) => answer[0] switch
    {
        'A' => Holder(AdmissionOutcome.Admitted, answer.AsSpan(1)) with { OutboxId = outboxId },
        'H' => Holder(AdmissionOutcome.AlreadyAdmitted, answer.AsSpan(1)),
        'S' => new Admission(AdmissionOutcome.SoldOut),
        'N' => new Admission(AdmissionOutcome.NotOpen, OpensAt: next),
        'E' => new Admission(AdmissionOutcome.Ended),
        'W' => new Admission(AdmissionOutcome.WindowSoldOut, OpensAt: next),
        _ => throw new InvalidOperationException($"Unexpected gate answer '{answer}' at {now:O}."),
    };

    /// <summary>Parses a holder value, "seq:atMs:window" (as in the holders hash and the outbox).</summary>
    private static Admission Holder(AdmissionOutcome outcome, ReadOnlySpan<char> parts)
    {
        var first = parts.IndexOf(':');
        var second = first + 1 + parts[(first + 1)..].IndexOf(':');
        return new Admission(outcome,
            long.Parse(parts[..first], CultureInfo.InvariantCulture),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[(first + 1)..second], CultureInfo.InvariantCulture)),
            int.Parse(parts[(second + 1)..], CultureInfo.InvariantCulture));
    }

    public async ValueTask<bool> IsLoadedAsync(long campaignId, CancellationToken ct) =>
        await redis.GetDatabase().KeyExistsAsync(Key(campaignId, "meta"));

    public async ValueTask LoadAsync(StoredCampaign campaign, GateSnapshot snapshot, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var id = campaign.Id;
        // Meta goes first out and last in: until it exists again every script call answers "not loaded".
        await db.KeyDeleteAsync([Key(id, "meta"), Key(id, "holders"), Key(id, "windows"), Key(id, "wcount"), Key(id, "outbox")]);

        var windows = campaign.Windows.Select((w, i) => new SortedSetEntry(
            string.Create(CultureInfo.InvariantCulture, $"{i}:{w.EndsAt.ToUnixTimeMilliseconds()}:{w.Quota ?? -1}"),
            w.StartsAt.ToUnixTimeMilliseconds())).ToArray();
        await db.SortedSetAddAsync(Key(id, "windows"), windows);

        var perWindow = new int[campaign.Windows.Count];
        foreach (var c in snapshot.Coupons) perWindow[c.WindowIndex]++;
        await db.HashSetAsync(Key(id, "wcount"), perWindow.Select((n, i) => new HashEntry(i, n)).ToArray());

        foreach (var chunk in snapshot.Coupons.Chunk(1_000))
        {
            await db.HashSetAsync(Key(id, "holders"), chunk.Select(c => new HashEntry(c.UserId,
                string.Create(CultureInfo.InvariantCulture, $"{c.Sequence}:{c.IssuedAt.ToUnixTimeMilliseconds()}:{c.WindowIndex}"))).ToArray());
        }

        var sequence = snapshot.Coupons.Count == 0 ? snapshot.MaxSequence : snapshot.MaxSequence + options.SequenceGapOnRebuild;
        await db.HashSetAsync(Key(id, "meta"),
        [
            new HashEntry("total", campaign.TotalQuantity),
            new HashEntry("issued", snapshot.Coupons.Count),
            new HashEntry("seq", sequence),
        ]);
        await db.SetAddAsync(CampaignsKey, id);
    }

    public async ValueTask EvictAsync(long campaignId, CancellationToken ct) =>
        await redis.GetDatabase().KeyDeleteAsync(Key(campaignId, "meta"));

    public async ValueTask<IAsyncDisposable?> TryLockForLoadAsync(long campaignId, CancellationToken ct)
    {
        var key = Key(campaignId, "loadlock");
        var token = Guid.NewGuid().ToString("N");
        var db = redis.GetDatabase();
        return await db.LockTakeAsync(key, token, TimeSpan.FromSeconds(30)) ? new LoadLock(db, key, token) : null;
    }

    public async ValueTask<IReadOnlyList<OutboxEntry>> ReadOutboxAsync(long campaignId, DateTimeOffset admittedBefore, int maxEntries, CancellationToken ct)
    {
        var maxId = string.Create(CultureInfo.InvariantCulture, $"{admittedBefore.ToUnixTimeMilliseconds()}-18446744073709551615");
        var flat = (RedisResult[])(await scripts.EvaluateAsync("outbox-read", [Key(campaignId, "outbox")], [maxId, maxEntries]))!;
        var entries = new List<OutboxEntry>(flat.Length / 3);
        for (var i = 0; i + 2 < flat.Length; i += 3)
        {
            var admission = Holder(AdmissionOutcome.Admitted, (string)flat[i + 2]!);
            entries.Add(new OutboxEntry((string)flat[i]!, campaignId, (string)flat[i + 1]!, admission.Sequence, admission.At, admission.WindowIndex));
        }
        return entries;
    }

    public async ValueTask DeleteOutboxAsync(long campaignId, IReadOnlyList<string> entryIds, CancellationToken ct)
    {
        if (entryIds.Count == 0) return;
        foreach (var id in entryIds) _unstored.TryRemove(id, out _);
        await scripts.EvaluateAsync("outbox-delete", [Key(campaignId, "outbox")], entryIds.Select(e => (RedisValue)e).ToArray());
    }

    public async ValueTask ReleaseOutboxAsync(long campaignId, IReadOnlyList<string> outboxIds, CancellationToken ct)
    {
        List<string>? done = null;
        foreach (var id in outboxIds)
        {
            // Atomic per entry: concurrent groups may release admissions of the same entry.
            if (_unstored.AddOrUpdate(id, 0, static (_, n) => n - 1) <= 0 && _unstored.TryRemove(new KeyValuePair<string, int>(id, 0)))
                (done ??= []).Add(id);
        }
        if (done is not null) await DeleteOutboxAsync(campaignId, done, ct);
    }

    public async ValueTask<IReadOnlyList<long>> KnownCampaignsAsync(CancellationToken ct) =>
        (await redis.GetDatabase().SetMembersAsync(CampaignsKey)).Select(v => (long)v).ToList();

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission gate call for campaign {CampaignId} failed ({Count} requests answered 503)")]
    private partial void LogGateFailed(Exception ex, long campaignId, int count);

    private sealed class CampaignQueue
    {
        public readonly Queue<PendingAdmission> Pending = new();
        public bool Running;
    }

    private sealed class PendingAdmission(string userId)
    {
        public string UserId { get; } = userId;
        public TaskCompletionSource<Admission> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class LoadLock(IDatabase db, RedisKey key, string token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await db.LockReleaseAsync(key, token);
    }
}
