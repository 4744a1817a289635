using System.Text.Json;
using CouponLive.Events;
using CouponLive.Storage;

namespace CouponLive.Tests.Storage;

/// <summary>The outbox's part of the contract: every store writes events in the change's transaction, and fences its relay lease.</summary>
public abstract partial class StoreContractTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    /// <summary>Every event the outbox holds, in feed order.</summary>
    private static async Task<IReadOnlyList<StoredEvent>> FeedAsync(ICouponStore store) => await ((IEventStore)store).ReadEventFeedAsync(0, 5000, Ct);

    /// <summary>
    /// Makes the store's own database refuse every <paramref name="statement"/> (INSERT or UPDATE) on the events table
    /// (a trigger), or stop refusing: a real failure at that step.
    /// </summary>
    protected abstract Task RefuseEventWritesAsync(string statement, bool refuse);

    private static JsonElement Data(StoredEvent e) => JsonDocument.Parse(e.Data).RootElement;

    [Fact]
    public async Task Each_change_writes_its_event_in_its_transaction_and_a_change_that_rolled_back_writes_none()
    {
        var (store, id) = await CampaignAsync(3);
        var name = (await store.GetCampaignAsync(id, Ct))!.Name;
        IssuedCoupon[] group = [Coupon(id, 1, "alice"), Coupon(id, 2, "bob")];
        await store.CommitAsync(group, Ct);
        await store.CommitAsync(group, Ct);                                             // replayed: existing, no event
        var over = await store.CommitAsync([Coupon(id, 3, "carol"), Coupon(id, 4, "dave")], Ct); // one fits
        var carol = over.Single(o => o.Status == CommitStatus.Inserted).Coupon!;
        Assert.Equal(CommitStatus.Rejected, over.Single(o => o.Coupon != carol).Status);

        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.True(await edit.WriteAsync(edit.Current with { Version = 2, PausedAt = T0 }, Ct));
            // disposed without commit: rolled back, and its event with it
        }
        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.True(await edit.WriteAsync(edit.Current with { Version = 2, PausedAt = T0 }, Ct));
            await edit.CommitAsync(new AuditEntry(T0, "operator", "pause", [new AuditChange("status", "active", "paused")]), Ct);
        }
        var at = T0.AddMinutes(1);
        await store.RedeemCouponAsync(id, 1, "order-1", at, Ct);
        await store.RedeemCouponAsync(id, 1, "order-2", at, Ct);                        // no change: no event
        await store.CancelRedemptionAsync(id, 1, "order-1", at.AddSeconds(1), Ct);
        await store.RevokeCouponAsync(id, 2, at.AddSeconds(2), Ct);
        await store.RevokeCouponAsync(id, 2, at.AddSeconds(3), Ct);                      // no change: no event

        var feed = await FeedAsync(store);
        Assert.Equal(
            [EventTypes.CampaignCreated, EventTypes.CouponIssued, EventTypes.CouponIssued, EventTypes.CouponIssued, EventTypes.CampaignChanged,
             EventTypes.CouponRedeemed, EventTypes.CouponRedemptionCancelled, EventTypes.CouponRevoked],
            feed.Select(e => e.Type));
        Assert.Equal(Enumerable.Range(1, feed.Count).Select(i => (long)i), feed.Select(e => e.FeedPosition));
        Assert.Equal(feed.Count, feed.Select(e => e.Id).Distinct().Count());
        Assert.All(feed, e => Assert.Equal(id, e.CampaignId));
        Assert.All(feed, e => Assert.Equal(name, Data(e).GetProperty("campaignName").GetString()));

        // The issued events carry what a consumer needs, one per coupon written.
        var issued = feed.Where(e => e.Type == EventTypes.CouponIssued).ToList();
        IssuedCoupon[] written = [.. group, carol];
        Assert.Equal(written.Select(c => $"campaigns/{id}/coupons/{c.Code}"), issued.Select(e => e.Subject));
        foreach (var (e, c) in issued.Zip(written))
        {
            var d = Data(e);
            Assert.Equal((id, c.Code, c.UserId, c.Sequence, 0, c.IssuedAt),
                (d.GetProperty("campaignId").GetInt64(), d.GetProperty("code").GetString(), d.GetProperty("userId").GetString(),
                 d.GetProperty("sequence").GetInt64(), d.GetProperty("windowIndex").GetInt32(), d.GetProperty("issuedAt").GetDateTimeOffset()));
        }
        var changed = Data(feed[4]);
        Assert.Equal("paused", changed.GetProperty("change").GetString());
        Assert.Equal(["status"], changed.GetProperty("changed").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("order-1", Data(feed[5]).GetProperty("orderId").GetString());
        Assert.Equal($"campaigns/{id}/coupons/{group[1].Code}", feed[7].Subject);
        Assert.Equal(at.AddSeconds(2), feed[7].Time);
    }

    [Fact]
    public async Task A_change_whose_event_cannot_be_written_is_rolled_back_whole()
    {
        var (store, id) = await CampaignAsync(10);
        await store.CommitAsync([Coupon(id, 1, "alice")], Ct);
        var campaign = (await store.GetCampaignAsync(id, Ct))!;
        var campaigns = await store.ListCampaignIdsAsync(100, Ct);

        await RefuseEventWritesAsync("INSERT", true);
        await Assert.ThrowsAnyAsync<Exception>(() => store.CommitAsync([Coupon(id, 2, "bob"), Coupon(id, 3, "carol")], Ct));
        await Assert.ThrowsAnyAsync<Exception>(() => store.RedeemCouponAsync(id, 1, "order-1", T0, Ct));
        await Assert.ThrowsAnyAsync<Exception>(() => store.RevokeCouponAsync(id, 1, T0, Ct));
        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.True(await edit.WriteAsync(edit.Current with { Version = campaign.Version + 1, PausedAt = T0 }, Ct));
            await Assert.ThrowsAnyAsync<Exception>(() => edit.CommitAsync(new AuditEntry(T0, "operator", "pause", [new AuditChange("status", "active", "paused")]), Ct));
        }
        await Assert.ThrowsAnyAsync<Exception>(() => store.TryCreateCampaignAsync(Definition("refused", 5), T0, Ct));
        await RefuseEventWritesAsync("INSERT", false);

        // Nothing of the refused changes stayed: not the coupons, the counters, the redemption, the pause, the audit row, the campaign.
        var counts = await store.GetCountsAsync(id, Ct);
        Assert.Equal((1, 1, 0), (counts.Issued, counts.IssuedPerWindow[0], counts.Redeemed));
        Assert.Null(await store.FindCouponAsync(id, 2, Ct));
        var alice = (await store.FindCouponAsync(id, 1, Ct))!;
        Assert.Null(alice.RedeemedAt);
        var unchanged = (await store.GetCampaignAsync(id, Ct))!;
        Assert.Equal((campaign.Version, campaign.PausedAt, campaign.State), (unchanged.Version, unchanged.PausedAt, unchanged.State));
        Assert.Empty(await store.ListAuditAsync(id, 10, Ct));
        Assert.Equal(campaigns, await store.ListCampaignIdsAsync(100, Ct));
        Assert.Null(await store.FindCampaignIdByNameAsync("refused", Ct));
        await AssertInvariantsHoldAsync(store, id, 1);

        // And the store goes on: the refused commit again, written once, its events after the others with no gap.
        Assert.All(await store.CommitAsync([Coupon(id, 2, "bob"), Coupon(id, 3, "carol")], Ct), o => Assert.Equal(CommitStatus.Inserted, o.Status));
        var feed = await FeedAsync(store);
        Assert.Equal([EventTypes.CampaignCreated, EventTypes.CouponIssued, EventTypes.CouponIssued, EventTypes.CouponIssued], feed.Select(e => e.Type));
        Assert.Equal([1L, 2, 3, 4], feed.Select(e => e.FeedPosition));
    }

    [Fact]
    public async Task A_sent_mark_whose_parking_fails_moves_nothing_and_the_next_try_moves_it_once()
    {
        var (store, id) = await CampaignAsync(10);
        var events = (IEventStore)store;
        await store.CommitAsync([.. Enumerable.Range(1, 5).Select(i => Coupon(id, i, $"user-{i}"))], Ct);
        var feed = await events.ReadEventFeedAsync(0, 100, Ct);
        Assert.True(await events.HoldRelayLeaseAsync("a", T0, Lease, Ct));

        // The fence and the mark are written, then parking the refused event fails: the transaction goes whole.
        await RefuseEventWritesAsync("UPDATE", true);
        await Assert.ThrowsAnyAsync<Exception>(() => events.MarkEventsSentAsync("a", T0.AddSeconds(1), 4, [new ParkedEvent(2, "too large")], Ct));
        await RefuseEventWritesAsync("UPDATE", false);
        Assert.Equal(feed, await events.ListUnsentEventsAsync(100, Ct));
        Assert.Equal(new EventBacklog(6, feed[0].Time, 0), await events.GetEventBacklogAsync(Ct));
        Assert.All(await events.ReadEventFeedAsync(0, 100, Ct), e => Assert.Null(e.ParkedAt));

        // The relay tries again: the mark moves once and the event is parked once.
        Assert.True(await events.MarkEventsSentAsync("a", T0.AddSeconds(2), 4, [new ParkedEvent(2, "too large")], Ct));
        Assert.Equal(feed.Skip(4), await events.ListUnsentEventsAsync(100, Ct));
        Assert.Equal(new EventBacklog(2, feed[4].Time, 1), await events.GetEventBacklogAsync(Ct));
        Assert.Equal([2L], (await events.ReadEventFeedAsync(0, 100, Ct)).Where(e => e.ParkedAt is not null).Select(e => e.FeedPosition));
    }

    [Fact]
    public async Task A_grant_that_finishes_writes_its_event_once()
    {
        var (store, id) = await CampaignAsync(10);
        var (grant, _) = await store.CreateGrantAsync(id, "grant-1", "operator", T0, [new(1, "a", null, null), new(2, "b", null, null)], Ct);
        await store.RecordGrantOutcomesAsync(grant.GrantNo, [new(1, "a", GrantOutcome.SoldOut, null)], T0.AddSeconds(1), Ct);
        Assert.DoesNotContain(await FeedAsync(store), e => e.Type == EventTypes.GrantFinished);
        await store.RecordGrantOutcomesAsync(grant.GrantNo, [new(2, "b", GrantOutcome.AlreadyHeld, null)], T0.AddSeconds(2), Ct);
        await store.RecordGrantOutcomesAsync(grant.GrantNo, [new(2, "b", GrantOutcome.AlreadyHeld, null)], T0.AddSeconds(3), Ct); // replay
        await store.CreateGrantAsync(id, "grant-2", "operator", T0, [new(1, "bad\u0001", GrantOutcome.Invalid, null)], Ct); // done as created

        var finished = (await FeedAsync(store)).Where(e => e.Type == EventTypes.GrantFinished).ToList();
        Assert.Equal([$"campaigns/{id}/grants/grant-1", $"campaigns/{id}/grants/grant-2"], finished.Select(e => e.Subject));
        var d = Data(finished[0]);
        Assert.Equal(("grant-1", 2, 1, 1), (d.GetProperty("grantId").GetString(), d.GetProperty("requested").GetInt32(),
            d.GetProperty("soldOut").GetInt32(), d.GetProperty("alreadyHeld").GetInt32()));
        Assert.Equal(T0.AddSeconds(2), finished[0].Time);
    }

    [Fact]
    public async Task Writers_at_once_fill_the_feed_without_a_gap_and_a_reader_never_sees_a_later_event_before_an_earlier()
    {
        var (store, id) = await CampaignAsync(1000);
        var events = (IEventStore)store;
        using var writing = new CancellationTokenSource();
        var reading = new TaskCompletionSource();
        var reads = 0;
        var reader = Task.Run(async () =>
        {
            do
            {
                var seen = await events.ReadEventFeedAsync(0, 5000, Ct);
                Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(e => e.FeedPosition));
                reads++;
                reading.TrySetResult(); // the writers start once the reader runs, so its reads overlap theirs
            }
            while (!writing.IsCancellationRequested);
        }, Ct);
        if (await Task.WhenAny(reading.Task, reader) == reader) await reader; // a first read that failed fails here
        try
        {
            await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 40; i++)
                {
                    var sequence = w * 40 + i + 1;
                    await store.CommitAsync([Coupon(id, sequence, $"user-{sequence}")], Ct);
                    if (i % 10 == 9) await store.RevokeCouponAsync(id, sequence, T0, Ct);
                }
            }, Ct)));
        }
        finally
        {
            await writing.CancelAsync();
        }
        await reader;

        var feed = await FeedAsync(store);
        TestContext.Current.SendDiagnosticMessage($"{GetType().Name}: {reads} reads of the feed while six writers wrote");
        Assert.Equal(Enumerable.Range(1, 1 + 240 + 24).Select(i => (long)i), feed.Select(e => e.FeedPosition));
        Assert.Equal(240, feed.Count(e => e.Type == EventTypes.CouponIssued));
        Assert.Equal(24, feed.Count(e => e.Type == EventTypes.CouponRevoked));
        Assert.Equal(feed.Count, feed.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task The_relay_lease_has_one_holder_and_a_lapsed_holder_moves_nothing()
    {
        var (store, id) = await CampaignAsync(100);
        var events = (IEventStore)store;
        await store.CommitAsync([.. Enumerable.Range(1, 10).Select(i => Coupon(id, i, $"user-{i}"))], Ct);

        Assert.True(await events.HoldRelayLeaseAsync("a", T0, Lease, Ct));
        Assert.True(await events.HoldRelayLeaseAsync("a", T0, Lease, Ct));          // renewed, same expiry
        Assert.False(await events.HoldRelayLeaseAsync("b", T0.AddSeconds(4), Lease, Ct));
        Assert.False(await events.MarkEventsSentAsync("b", T0.AddSeconds(4), 4, [], Ct));
        var feed = await events.ReadEventFeedAsync(0, 100, Ct);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), feed.Select(e => e.FeedPosition));
        Assert.Equal(new EventBacklog(11, feed[0].Time, 0), await events.GetEventBacklogAsync(Ct));

        // a's lease lapses; b takes over, and a moves nothing any more.
        Assert.True(await events.HoldRelayLeaseAsync("b", T0.AddSeconds(6), Lease, Ct));
        Assert.False(await events.MarkEventsSentAsync("a", T0.AddSeconds(6), 4, [], Ct));
        Assert.Equal(feed, await events.ListUnsentEventsAsync(100, Ct));

        Assert.True(await events.MarkEventsSentAsync("b", T0.AddSeconds(7), 5, [new ParkedEvent(3, "too large")], Ct));
        Assert.Equal(feed.Skip(5), await events.ListUnsentEventsAsync(100, Ct));
        Assert.Equal(feed.Skip(7).Take(2), await events.ReadEventFeedAsync(7, 2, Ct));
        Assert.Equal(new EventBacklog(6, feed[5].Time, 1), await events.GetEventBacklogAsync(Ct));
        Assert.NotNull((await events.ReadEventFeedAsync(2, 1, Ct))[0].ParkedAt);

        // A holder that stops hands over at once: another takes the lease before it would have lapsed.
        await events.ReleaseRelayLeaseAsync("a", Ct);                                // not a's: nothing changes
        Assert.False(await events.HoldRelayLeaseAsync("c", T0.AddSeconds(8), Lease, Ct));
        await events.ReleaseRelayLeaseAsync("b", Ct);
        Assert.True(await events.HoldRelayLeaseAsync("c", T0.AddSeconds(8), Lease, Ct));
        Assert.False(await events.MarkEventsSentAsync("b", T0.AddSeconds(8), 6, [], Ct));

        // Retention deletes sent events only, oldest first, and the parked one leaves the count with it.
        Assert.Equal(3, await events.DeleteSentEventsAsync(DateTimeOffset.UtcNow.AddDays(1), 3, Ct));
        Assert.Equal(new EventBacklog(6, feed[5].Time, 0), await events.GetEventBacklogAsync(Ct));
        Assert.Equal(2, await events.DeleteSentEventsAsync(DateTimeOffset.UtcNow.AddDays(1), 3, Ct));
        Assert.Equal(0, await events.DeleteSentEventsAsync(DateTimeOffset.UtcNow.AddDays(1), 3, Ct));
        Assert.Equal(feed.Skip(5), await events.ReadEventFeedAsync(0, 100, Ct));

        // Positions are never handed out again, even once the newest events are gone.
        Assert.True(await events.MarkEventsSentAsync("c", T0.AddSeconds(9), 11, [], Ct));
        Assert.Equal(6, await events.DeleteSentEventsAsync(DateTimeOffset.UtcNow.AddDays(1), 100, Ct));
        await store.CommitAsync([Coupon(id, 11, "user-11")], Ct);
        Assert.Equal([12L], (await events.ReadEventFeedAsync(0, 100, Ct)).Select(e => e.FeedPosition));
        Assert.Equal(new EventBacklog(1, (await events.ReadEventFeedAsync(0, 1, Ct))[0].Time, 0), await events.GetEventBacklogAsync(Ct));
    }
}
