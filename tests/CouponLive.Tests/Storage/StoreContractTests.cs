using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Issuance;
using CouponLive.Storage;
using Dapper;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;

namespace CouponLive.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="ICouponStore"/> must have. xUnit makes a new instance per test,
/// and each instance works on a database of its own that a subclass creates and drops.
/// </summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    private static readonly CouponCodeCodec Codec = new("store-contract-tests-key"u8);

    // Whole milliseconds, as the gate hands them out.
    protected static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_123);

    private readonly List<ICouponStore> _opened = [];
    private ICouponStore? _store;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates this test's empty database.</summary>
    protected abstract ValueTask CreateDatabaseAsync();

    /// <summary>A new, uninitialized store on this test's database, as another server process would have.</summary>
    protected abstract ICouponStore NewStore();

    /// <summary>Builds this test's schema as it was at <paramref name="version"/>, as an older release left it.</summary>
    protected abstract Task MigrateToAsync(int version);

    /// <summary>Stores a campaign as the release of schema version 1 did, with one window around T0; returns its id.</summary>
    protected abstract Task<long> InsertVersion1CampaignAsync(string name, int quantity);

    /// <summary>Stores a coupon as the release of schema version 1 did (its columns, its counters), in window 0.</summary>
    protected abstract Task InsertVersion1CouponAsync(IssuedCoupon coupon);

    /// <summary>Drops this test's database; every store opened on it is disposed by then.</summary>
    protected abstract ValueTask DropDatabaseAsync();

    public async ValueTask InitializeAsync() => await CreateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
        await DropDatabaseAsync();
    }

    private ICouponStore Open()
    {
        var store = NewStore();
        _opened.Add(store);
        return store;
    }

    private async Task<ICouponStore> StoreAsync()
    {
        if (_store is null)
        {
            _store = Open();
            await _store.InitializeAsync(Ct);
        }
        return _store;
    }

    private static CampaignDefinition Definition(string name, int quantity, params CampaignWindow[] windows) =>
        new(name, quantity, windows.Length > 0 ? windows : [new CampaignWindow(T0.AddHours(-1), T0.AddHours(1), null)], null, null);

    private async Task<(ICouponStore Store, long Id)> CampaignAsync(int quantity, params CampaignWindow[] windows)
    {
        var store = await StoreAsync();
        var id = await store.TryCreateCampaignAsync(Definition($"campaign-{Guid.NewGuid():N}", quantity, windows), T0, Ct);
        Assert.NotNull(id);
        return (store, id.Value);
    }

    private static IssuedCoupon Coupon(long campaignId, long sequence, string userId, int window = 0, DateTimeOffset? at = null) =>
        new(campaignId, userId, sequence, Codec.Encode(campaignId, sequence), at ?? T0.AddMilliseconds(sequence),
            window >= 0 ? CouponSource.Window(window) : CouponSource.Grant(-window));

    private static async Task AssertInvariantsHoldAsync(ICouponStore store, long campaignId, int rows)
    {
        var report = await store.CheckInvariantsAsync(campaignId, Ct);
        Assert.Empty(report.Violations());
        Assert.Equal(rows, report.Rows);
        Assert.Equal(rows, report.IssuedCounter);
    }

    private static async Task AssertCountsAsync(ICouponStore store, long campaignId, int issued, params int[] perWindow)
    {
        var counts = await store.GetCountsAsync(campaignId, Ct);
        Assert.Equal(issued, counts.Issued);
        Assert.Equal(perWindow, counts.IssuedPerWindow);
    }

    private static CommitStatus[] Statuses(IReadOnlyList<CommitOutcome> outcomes) => outcomes.Select(o => o.Status).ToArray();

    [Fact]
    public async Task Migrations_are_idempotent_and_safe_when_four_starts_race()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => Open()).ToList();
        await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(Ct))));

        var alice = new UserAccount("u-1", "alice", "hash", "user", T0);
        Assert.True(await stores[0].TryCreateUserAsync(alice, Ct));
        foreach (var s in stores) await s.InitializeAsync(Ct); // a second start migrates nothing and keeps the data
        var later = Open();
        await later.InitializeAsync(Ct);

        foreach (var s in stores.Append(later)) Assert.Equal(alice, await s.FindUserByLoginAsync("alice", Ct));
        Assert.NotNull(await later.TryCreateCampaignAsync(Definition("after-restart", 1), T0, Ct));
    }

    [Fact]
    public async Task A_version_1_database_keeps_its_coupons_and_constraints_through_the_migrations()
    {
        await MigrateToAsync(1);
        var id = await InsertVersion1CampaignAsync("made-at-v1", 3);
        await InsertVersion1CouponAsync(Coupon(id, 1, "alice"));
        await InsertVersion1CouponAsync(Coupon(id, 2, "bob"));

        var store = await StoreAsync(); // migrates to the latest version
        await AssertInvariantsHoldAsync(store, id, 2);
        Assert.Equal([1L], (await store.ListUserCouponsAsync("alice", Ct)).Select(c => c.Sequence));
        var again = await store.CommitAsync([Coupon(id, 3, "alice")], Ct); // still one coupon per user and campaign (I2)
        Assert.Equal(CommitStatus.Existing, again[0].Status);
        Assert.Equal(1, again[0].Coupon!.Sequence);
        Assert.Equal([CommitStatus.Inserted], Statuses(await store.CommitAsync([Coupon(id, 3, "carol")], Ct)));
        Assert.Equal([CommitStatus.Rejected], Statuses(await store.CommitAsync([Coupon(id, 4, "dave")], Ct))); // stock (I1)
        await AssertInvariantsHoldAsync(store, id, 3);
    }

    [Fact]
    public async Task Users_are_created_once_per_login_found_and_updated()
    {
        var store = await StoreAsync();
        var alice = new UserAccount("u-1", "alice", "hash-1", "user", T0);
        Assert.True(await store.TryCreateUserAsync(alice, Ct));
        Assert.False(await store.TryCreateUserAsync(new UserAccount("u-2", "alice", "hash-x", "admin", T0), Ct));
        Assert.True(await store.TryCreateUserAsync(new UserAccount("u-3", "bob", "hash-3", "user", T0), Ct));

        Assert.Equal(alice, await store.FindUserByLoginAsync("alice", Ct));
        Assert.Null(await store.FindUserByLoginAsync("carol", Ct));

        var updated = alice with { PasswordHash = "hash-2", Role = "admin" };
        await store.UpdateUserAsync(updated, Ct);
        Assert.Equal(updated, await store.FindUserByLoginAsync("alice", Ct));
        Assert.Equal("hash-3", (await store.FindUserByLoginAsync("bob", Ct))?.PasswordHash);
    }

    [Fact]
    public async Task Campaigns_are_found_by_exact_name()
    {
        var store = await StoreAsync();
        var id = await store.TryCreateCampaignAsync(Definition("봄 세일 Spring", 10), T0, Ct);
        Assert.NotNull(id);
        var other = await store.TryCreateCampaignAsync(Definition("봄 세일 Spring 2", 10), T0, Ct);

        Assert.Equal(id, await store.FindCampaignIdByNameAsync("봄 세일 Spring", Ct));
        Assert.Equal(other, await store.FindCampaignIdByNameAsync("봄 세일 Spring 2", Ct));
        Assert.Null(await store.FindCampaignIdByNameAsync("봄 세일 spring", Ct)); // names are case-sensitive, as UNIQUE is
        Assert.Null(await store.FindCampaignIdByNameAsync("봄 세일", Ct));
        Assert.Null(await store.FindCampaignIdByNameAsync("봄 세일 Spring%", Ct));
    }

    [Fact]
    public async Task Times_come_back_as_the_same_instant_in_whole_milliseconds()
    {
        var store = await StoreAsync();
        var seoul = TimeSpan.FromHours(9);
        var created = new DateTimeOffset(2026, 3, 1, 9, 0, 0, 123, seoul).AddTicks(4_567); // 0.4567 ms past a whole ms
        Assert.True(await store.TryCreateUserAsync(new UserAccount("u-1", "alice", "h", "user", created), Ct));
        Assert.Equal(created.AddTicks(-4_567), (await store.FindUserByLoginAsync("alice", Ct))?.CreatedAt);

        var opens = new DateTimeOffset(2026, 3, 1, 10, 0, 0, seoul);
        var (_, id) = await CampaignAsync(5, new CampaignWindow(opens, opens.AddMinutes(1), null));
        var coupon = Coupon(id, 1, "alice", at: opens.AddMilliseconds(999));
        await store.CommitAsync([coupon], Ct);
        var found = await store.FindCouponAsync(id, 1, Ct);
        Assert.Equal(coupon.IssuedAt, found?.IssuedAt);
        Assert.Equal(opens, (await store.GetCampaignAsync(id, Ct))?.Windows[0].StartsAt);
    }

    [Fact]
    public async Task Campaigns_are_unique_by_name_and_round_trip()
    {
        var store = await StoreAsync();
        var definition = new CampaignDefinition(
            "spring-sale",
            100,
            [new CampaignWindow(T0, T0.AddMinutes(1), 10), new CampaignWindow(T0.AddHours(1), T0.AddHours(1).AddMinutes(1), null)],
            T0.AddDays(30),
            new Benefit("percent", 12.50m));
        var id = await store.TryCreateCampaignAsync(definition, T0.AddSeconds(-5), Ct);
        Assert.NotNull(id);
        Assert.Null(await store.TryCreateCampaignAsync(definition with { TotalQuantity = 5 }, T0, Ct));
        var plainId = await store.TryCreateCampaignAsync(Definition("plain", 1), T0, Ct);
        Assert.NotNull(plainId);
        Assert.NotEqual(id, plainId);

        var stored = await store.GetCampaignAsync(id.Value, Ct);
        Assert.NotNull(stored);
        Assert.Equal((id.Value, "spring-sale", 100, T0.AddDays(30), new Benefit("percent", 12.5m), T0.AddSeconds(-5)),
            (stored.Id, stored.Name, stored.TotalQuantity, stored.CouponValidUntil, stored.Benefit, stored.CreatedAt));
        Assert.Equal(definition.Windows, stored.Windows);
        await AssertCountsAsync(store, id.Value, 0, 0, 0);

        var plain = await store.GetCampaignAsync(plainId.Value, Ct);
        Assert.NotNull(plain);
        Assert.Equal(("plain", 1, (DateTimeOffset?)null, (Benefit?)null), (plain.Name, plain.TotalQuantity, plain.CouponValidUntil, plain.Benefit));
        Assert.Single(plain.Windows);

        Assert.Null(await store.GetCampaignAsync(plainId.Value + 1000, Ct));
    }

    [Fact]
    public async Task A_group_is_inserted_and_the_same_rows_again_are_existing()
    {
        var (store, id) = await CampaignAsync(10);
        IssuedCoupon[] group = [Coupon(id, 1, "a"), Coupon(id, 2, "b"), Coupon(id, 3, "c")];

        Assert.Equal(group.Select(c => new CommitOutcome(CommitStatus.Inserted, c)), await store.CommitAsync(group, Ct));
        Assert.Equal(group.Select(c => new CommitOutcome(CommitStatus.Existing, c)), await store.CommitAsync(group, Ct));

        await AssertCountsAsync(store, id, 3, 3);
        await AssertInvariantsHoldAsync(store, id, 3);
    }

    [Fact]
    public async Task A_holder_committed_again_with_another_sequence_gets_the_original_coupon()
    {
        var (store, id) = await CampaignAsync(10);
        var original = Coupon(id, 1, "a");
        await store.CommitAsync([original], Ct);

        var outcomes = await store.CommitAsync([Coupon(id, 7, "a", at: T0.AddSeconds(5)), Coupon(id, 2, "b")], Ct);

        Assert.Equal(new CommitOutcome(CommitStatus.Existing, original), outcomes[0]);
        Assert.Equal(new CommitOutcome(CommitStatus.Inserted, Coupon(id, 2, "b")), outcomes[1]);
        Assert.Null(await store.FindCouponAsync(id, 7, Ct));
        await AssertCountsAsync(store, id, 2, 2);
        await AssertInvariantsHoldAsync(store, id, 2);
    }

    [Fact]
    public async Task A_user_twice_in_one_group_is_written_once()
    {
        var (store, id) = await CampaignAsync(10);
        var first = Coupon(id, 1, "a");

        var outcomes = await store.CommitAsync([first, Coupon(id, 2, "a")], Ct);

        Assert.Equal([new CommitOutcome(CommitStatus.Inserted, first), new CommitOutcome(CommitStatus.Existing, first)], outcomes);
        await AssertCountsAsync(store, id, 1, 1);
        await AssertInvariantsHoldAsync(store, id, 1);
    }

    [Fact]
    public async Task A_row_clashing_on_code_or_sequence_is_rejected_and_the_rest_of_its_group_commits()
    {
        var (store, id) = await CampaignAsync(10);
        var taken = Coupon(id, 1, "a");
        await store.CommitAsync([taken], Ct);

        var sameCode = Coupon(id, 2, "b") with { Code = taken.Code };
        var sameSequence = Coupon(id, 1, "c") with { Code = Codec.Encode(id, 99) };
        var outcomes = await store.CommitAsync([Coupon(id, 3, "d"), sameCode, Coupon(id, 4, "e"), sameSequence, Coupon(id, 5, "f")], Ct);

        Assert.Equal([CommitStatus.Inserted, CommitStatus.Rejected, CommitStatus.Inserted, CommitStatus.Rejected, CommitStatus.Inserted], Statuses(outcomes));
        Assert.Null(outcomes[1].Coupon);
        Assert.Null(outcomes[3].Coupon);
        Assert.Equal(taken, await store.FindCouponAsync(id, 1, Ct));
        Assert.Null(await store.FindCouponAsync(id, 2, Ct));
        await AssertCountsAsync(store, id, 4, 4);
        await AssertInvariantsHoldAsync(store, id, 4);
    }

    [Fact]
    public async Task A_group_that_would_exceed_the_quantity_commits_what_fits_and_rejects_the_rest()
    {
        var (store, id) = await CampaignAsync(3);
        var holder = Coupon(id, 1, "a");
        await store.CommitAsync([holder], Ct);

        IssuedCoupon[] group = [Coupon(id, 2, "b"), Coupon(id, 3, "c"), Coupon(id, 4, "d"), Coupon(id, 5, "e")];
        var outcomes = await store.CommitAsync(group, Ct);

        Assert.Equal(2, outcomes.Count(o => o.Status == CommitStatus.Inserted));
        Assert.Equal(2, outcomes.Count(o => o.Status == CommitStatus.Rejected));
        var inserted = outcomes.Where(o => o.Status == CommitStatus.Inserted).Select(o => o.Coupon!).ToList();
        Assert.All(inserted, c => Assert.Contains(c, group));
        Assert.Equal([holder, .. inserted.OrderBy(c => c.Sequence)], await store.ListCouponsAsync(id, 0, 10, Ct));
        await AssertCountsAsync(store, id, 3, 3);
        await AssertInvariantsHoldAsync(store, id, 3);
        Assert.True((await store.CheckInvariantsAsync(id, Ct)).SoldExactly);

        // Sold out: a newcomer is rejected, a holder still gets their coupon back.
        Assert.Equal(CommitStatus.Rejected, (await store.CommitAsync([Coupon(id, 6, "f")], Ct))[0].Status);
        Assert.Equal(new CommitOutcome(CommitStatus.Existing, holder), (await store.CommitAsync([Coupon(id, 9, "a")], Ct))[0]);
        await AssertCountsAsync(store, id, 3, 3);
    }

    [Fact]
    public async Task A_row_for_a_window_the_campaign_does_not_have_is_rejected_and_the_others_land()
    {
        var (store, id) = await CampaignAsync(10);
        var outcomes = await store.CommitAsync([Coupon(id, 1, "a"), Coupon(id, 2, "b", window: 7), Coupon(id, 3, "c")], Ct);
        Assert.Equal([CommitStatus.Inserted, CommitStatus.Rejected, CommitStatus.Inserted], Statuses(outcomes));
        await AssertInvariantsHoldAsync(store, id, 2);
        await AssertCountsAsync(store, id, 2, 2);
    }

    [Fact]
    public async Task A_group_that_would_exceed_a_window_quota_commits_what_fits_and_rejects_the_rest()
    {
        var first = new CampaignWindow(T0.AddHours(-1), T0, 2);
        var second = new CampaignWindow(T0, T0.AddHours(1), null);
        var (store, id) = await CampaignAsync(10, first, second);
        IssuedCoupon InFirst(long seq, string user) => Coupon(id, seq, user, window: 0, at: T0.AddMinutes(-30).AddMilliseconds(seq));

        var outcomes = await store.CommitAsync([InFirst(1, "a"), InFirst(2, "b"), InFirst(3, "c"), Coupon(id, 4, "d", window: 1)], Ct);

        Assert.Equal([CommitStatus.Inserted, CommitStatus.Inserted, CommitStatus.Rejected, CommitStatus.Inserted], Statuses(outcomes));
        Assert.Equal(CommitStatus.Rejected, (await store.CommitAsync([InFirst(5, "e")], Ct))[0].Status);
        await AssertCountsAsync(store, id, 3, 2, 1);
        await AssertInvariantsHoldAsync(store, id, 3);
    }

    [Fact]
    public async Task Concurrent_groups_from_eight_writers_issue_exactly_the_quantity()
    {
        var (store, id) = await CampaignAsync(500);
        var rows = Enumerable.Range(1, 1_000).Select(i => Coupon(id, i, $"user-{i}")).ToArray();
        var writers = Enumerable.Range(0, 8).Select(_ => Open()).ToList(); // one per "process"
        foreach (var w in writers) await w.InitializeAsync(Ct);

        // Groups of 30 (and a last one of 10): 500 is no sum of whole groups, so the group that
        // crosses the limit must be split row by row. Writer t commits every 8th group.
        var groups = rows.Chunk(30).ToArray();
        var results = await Task.WhenAll(writers.Select((writer, t) => Task.Run(async () =>
        {
            var outcomes = new List<(IssuedCoupon Row, CommitOutcome Outcome)>();
            foreach (var group in groups.Where((_, g) => g % 8 == t))
            {
                var result = await writer.CommitAsync(group, Ct);
                outcomes.AddRange(group.Zip(result));
            }
            return outcomes;
        })));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(1_000, all.Count);
        Assert.Equal(500, all.Count(o => o.Outcome.Status == CommitStatus.Inserted));
        Assert.Equal(500, all.Count(o => o.Outcome.Status == CommitStatus.Rejected));
        Assert.All(all.Where(o => o.Outcome.Status == CommitStatus.Inserted), o => Assert.Equal(o.Row, o.Outcome.Coupon));

        var stored = await store.ListCouponsAsync(id, 0, 1_000, Ct);
        Assert.Equal(
            all.Where(o => o.Outcome.Status == CommitStatus.Inserted).Select(o => o.Row.Sequence).Order(),
            stored.Select(c => c.Sequence));
        await AssertCountsAsync(store, id, 500, 500);
        await AssertInvariantsHoldAsync(store, id, 500);
        Assert.True((await store.CheckInvariantsAsync(id, Ct)).SoldExactly);
    }

    [Fact]
    public async Task Two_writers_committing_the_same_rows_at_once_write_each_row_once()
    {
        // As when a reconciler replays what a live writer is committing: the same rows, in groups,
        // from opposite ends. Each row is Inserted by one and Existing for the other; nobody fails.
        var (store, id) = await CampaignAsync(1_000);
        var rows = Enumerable.Range(1, 400).Select(i => Coupon(id, i, $"user-{i}")).ToArray();
        var forward = Open();
        var backward = Open();
        await forward.InitializeAsync(Ct);
        await backward.InitializeAsync(Ct);

        static async Task<List<CommitOutcome>> CommitAll(ICouponStore writer, IEnumerable<IssuedCoupon> ordered)
        {
            var outcomes = new List<CommitOutcome>();
            foreach (var group in ordered.Chunk(50)) outcomes.AddRange(await writer.CommitAsync(group, Ct));
            return outcomes;
        }
        var results = await Task.WhenAll(
            Task.Run(() => CommitAll(forward, rows)),
            Task.Run(() => CommitAll(backward, rows.Reverse())));

        var bySequence = results[0].Concat(results[1]).GroupBy(o => o.Coupon!.Sequence).ToList();
        Assert.Equal(400, bySequence.Count);
        Assert.All(bySequence, g =>
        {
            Assert.Equal([CommitStatus.Inserted, CommitStatus.Existing], g.Select(o => o.Status).Order());
            Assert.Single(g.Select(o => o.Coupon).Distinct());
        });
        await AssertCountsAsync(store, id, 400, 400);
        await AssertInvariantsHoldAsync(store, id, 400);
    }

    [Fact]
    public async Task Coupons_are_listed_in_sequence_order_page_by_page()
    {
        var (store, id) = await CampaignAsync(10);
        var (_, other) = await CampaignAsync(10);
        await store.CommitAsync([Coupon(id, 5, "e"), Coupon(id, 2, "b"), Coupon(other, 1, "x"), Coupon(id, 9, "i")], Ct);
        await store.CommitAsync([Coupon(id, 1, "a"), Coupon(id, 7, "g"), Coupon(id, 3, "c")], Ct);

        var page1 = await store.ListCouponsAsync(id, 0, 4, Ct);
        Assert.Equal([Coupon(id, 1, "a"), Coupon(id, 2, "b"), Coupon(id, 3, "c"), Coupon(id, 5, "e")], page1);
        var page2 = await store.ListCouponsAsync(id, page1[^1].Sequence, 4, Ct);
        Assert.Equal([Coupon(id, 7, "g"), Coupon(id, 9, "i")], page2);
        Assert.Empty(await store.ListCouponsAsync(id, 9, 4, Ct));
        Assert.Equal([Coupon(id, 3, "c")], await store.ListCouponsAsync(id, 2, 1, Ct));
    }

    [Fact]
    public async Task A_users_coupons_are_listed_across_campaigns_oldest_first()
    {
        var (store, first) = await CampaignAsync(10);
        var (_, second) = await CampaignAsync(10);
        var later = Coupon(first, 1, "u", at: T0.AddSeconds(2));
        var earlier = Coupon(second, 1, "u", at: T0.AddSeconds(1));
        await store.CommitAsync([later, Coupon(first, 2, "v")], Ct);
        await store.CommitAsync([earlier], Ct);

        Assert.Equal([earlier, later], await store.ListUserCouponsAsync("u", Ct));
        Assert.Equal([Coupon(first, 2, "v")], await store.ListUserCouponsAsync("v", Ct));
        Assert.Empty(await store.ListUserCouponsAsync("nobody", Ct));
    }

    [Fact]
    public async Task A_coupon_is_found_by_campaign_and_sequence()
    {
        var (store, id) = await CampaignAsync(10);
        var coupon = Coupon(id, 4, "a", at: T0.AddMinutes(10));
        await store.CommitAsync([coupon], Ct);

        Assert.Equal(coupon, await store.FindCouponAsync(id, 4, Ct));
        Assert.Null(await store.FindCouponAsync(id, 5, Ct));
        Assert.Null(await store.FindCouponAsync(id + 1, 4, Ct));
    }

    [Fact]
    public async Task Each_gate_snapshot_holds_the_coupons_and_reserves_numbers_above_every_earlier_one()
    {
        var (store, id) = await CampaignAsync(10);
        var (_, other) = await CampaignAsync(10);
        var first = await store.ReserveGateSnapshotAsync(id, Ct);
        Assert.Empty(first.Coupons);
        Assert.Equal(1, first.NextSequence); // a first gate hands out 1..10

        IssuedCoupon[] rows = [Coupon(id, 3, "a"), Coupon(id, 8, "b"), Coupon(id, 5, "c")];
        await store.CommitAsync([.. rows, Coupon(other, 20, "d")], Ct);

        // A rebuild while 1..10 may still be in flight starts above them, though only 8 is stored; it may hand out 7.
        var second = await store.ReserveGateSnapshotAsync(id, Ct);
        Assert.Equal(rows.OrderBy(c => c.Sequence), second.Coupons.OrderBy(c => c.Sequence));
        Assert.Equal(11, second.NextSequence);

        // Raising the quantity by 3 reserves 3 more for the gate loaded now (it may admit them): the next rebuild is above.
        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.True(await edit.WriteAsync(edit.Current with { TotalQuantity = 13, Version = 2 }, Ct));
            await edit.CommitAsync(new AuditEntry(T0, "test", "update", []), Ct);
        }
        Assert.Equal(21, (await store.ReserveGateSnapshotAsync(id, Ct)).NextSequence); // 11..17, then 18..20

        // Another campaign's numbers are its own: above its highest stored one.
        Assert.Equal(21, (await store.ReserveGateSnapshotAsync(other, Ct)).NextSequence);
    }

    [Fact]
    public async Task Meta_keeps_the_first_value_written()
    {
        var store = await StoreAsync();
        Assert.Null(await store.GetMetaAsync("key", Ct));
        Assert.Equal("first", await store.GetOrAddMetaAsync("key", "first", Ct));
        Assert.Equal("first", await store.GetOrAddMetaAsync("key", "second", Ct));
        Assert.Equal("first", await store.GetMetaAsync("key", Ct));

        var racers = Enumerable.Range(0, 8).Select(_ => Open()).ToList();
        foreach (var r in racers) await r.InitializeAsync(Ct);
        var answers = await Task.WhenAll(racers.Select((r, i) => Task.Run(() => r.GetOrAddMetaAsync("race", $"value-{i}", Ct))));
        var winner = await store.GetMetaAsync("race", Ct);
        Assert.NotNull(winner);
        Assert.All(answers, a => Assert.Equal(winner, a));
    }

    [Fact]
    public async Task A_campaign_edit_commits_with_its_audit_entry_rolls_back_on_dispose_and_holds_off_commits()
    {
        var (store, id) = await CampaignAsync(2, new CampaignWindow(T0.AddHours(-1), T0.AddHours(1), 2), new CampaignWindow(T0.AddHours(2), T0.AddHours(3), null));
        var other = (await store.TryCreateCampaignAsync(Definition("taken-name", 1), T0, Ct))!.Value;
        Assert.Equal([CommitStatus.Inserted], Statuses(await store.CommitAsync([Coupon(id, 1, "alice")], Ct)));

        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.Equal(1, edit.Counts.Issued);
            Assert.Equal([1, 0], edit.Counts.IssuedPerWindow);
            Assert.False(await edit.WriteAsync(edit.Current with { Name = "taken-name", Version = 2 }, Ct)); // another campaign's name
        }
        await using (var edit = (await store.BeginCampaignEditAsync(id, Ct))!)
        {
            Assert.True(await edit.WriteAsync(edit.Current with { TotalQuantity = 9, Version = 2 }, Ct));
            // disposed without commit: rolled back
        }
        Assert.Equal(2, (await store.GetCampaignAsync(id, Ct))!.TotalQuantity);

        var pausedAt = T0.AddMinutes(1);
        var edited = (await store.GetCampaignAsync(id, Ct))! with
        {
            TotalQuantity = 5,
            Version = 2,
            PausedAt = pausedAt,
            Windows = [new CampaignWindow(T0.AddHours(-1), T0.AddHours(1), 2), new CampaignWindow(T0.AddHours(4), T0.AddHours(5), 3)],
        };
        var editing = (await store.BeginCampaignEditAsync(id, Ct))!;
        Assert.True(await editing.WriteAsync(edited, Ct));
        // A group commit of the campaign waits for the edit: its counter row is held (SQLite: the write lock;
        // its commit blocks its thread while it waits, as the writer's own thread does).
        var commit = Task.Run(() => store.CommitAsync([Coupon(id, 2, "bob")], Ct), Ct);
        await Task.Delay(200, Ct);
        Assert.False(commit.IsCompleted);
        await editing.CommitAsync(new AuditEntry(T0, "operator", "update", [new AuditChange("totalQuantity", "2", "5")]), Ct);
        await editing.DisposeAsync();
        Assert.Equal([CommitStatus.Inserted], Statuses(await commit));

        var stored = (await store.GetCampaignAsync(id, Ct))!;
        Assert.Equal(edited.Windows, stored.Windows);
        Assert.Equal(edited, stored with { Windows = edited.Windows });
        Assert.Equal(new Dictionary<long, int> { [id] = 2, [other] = 1 }, await store.GetCampaignVersionsAsync([id, other, 999_999], Ct));
        var audit = Assert.Single(await store.ListAuditAsync(id, 10, Ct));
        Assert.Equal(new AuditEntry(T0, "operator", "update", []) with { Changes = audit.Changes }, audit);
        Assert.Equal(new AuditChange("totalQuantity", "2", "5"), Assert.Single(audit.Changes));
        Assert.Null(await store.BeginCampaignEditAsync(999_999, Ct));
        await AssertInvariantsHoldAsync(store, id, 2);
    }

    [Fact]
    public async Task A_coupon_is_redeemed_once_its_redemption_cancelled_by_its_order_and_revoked_for_good()
    {
        var (store, id) = await CampaignAsync(10);
        var coupon = Coupon(id, 1, "a");
        await store.CommitAsync([coupon, Coupon(id, 2, "b")], Ct);
        var at = T0.AddMinutes(1);

        var redeemed = await store.RedeemCouponAsync(id, 1, "order-1", at, Ct);
        Assert.Equal(new CouponChange(true, coupon with { OrderId = "order-1", RedeemedAt = at }), redeemed);
        Assert.Equal(new CouponChange(false, redeemed.Coupon), await store.RedeemCouponAsync(id, 1, "order-2", at.AddSeconds(1), Ct));
        Assert.Equal(new CouponChange(false, redeemed.Coupon), await store.CancelRedemptionAsync(id, 1, "order-2", at.AddSeconds(2), Ct));
        Assert.Equal(1, (await store.GetCountsAsync(id, Ct)).Redeemed);
        Assert.Equal([redeemed.Coupon!], await store.ListCouponsAsync(id, 0, 10, CouponFilter.Redeemed, Ct));
        Assert.Equal([Coupon(id, 2, "b")], await store.ListCouponsAsync(id, 0, 10, CouponFilter.Unused, Ct));

        var cancelled = await store.CancelRedemptionAsync(id, 1, "order-1", at.AddSeconds(3), Ct);
        Assert.Equal(new CouponChange(true, coupon with { RedemptionCancelledAt = at.AddSeconds(3) }), cancelled);
        var revoked = await store.RevokeCouponAsync(id, 1, at.AddSeconds(4), Ct);
        Assert.Equal(new CouponChange(true, cancelled.Coupon! with { RevokedAt = at.AddSeconds(4) }), revoked);
        Assert.Equal(new CouponChange(false, revoked.Coupon), await store.RevokeCouponAsync(id, 1, at.AddSeconds(5), Ct));
        Assert.Equal(new CouponChange(false, revoked.Coupon), await store.RedeemCouponAsync(id, 1, "order-3", at.AddSeconds(6), Ct));
        Assert.Equal([revoked.Coupon!], await store.ListCouponsAsync(id, 0, 10, CouponFilter.Revoked, Ct));
        Assert.Empty(await store.ListCouponsAsync(id, 0, 10, CouponFilter.None, Ct));
        Assert.Equal(0, (await store.GetCountsAsync(id, Ct)).Redeemed);

        Assert.Equal(new CouponChange(false, null), await store.RedeemCouponAsync(id, 99, "order-4", at, Ct));
        Assert.Equal(new CouponChange(false, null), await store.RevokeCouponAsync(id, 99, at, Ct));
    }

    [Fact]
    public async Task A_grant_is_created_once_its_coupons_count_for_the_campaign_only_and_its_first_outcomes_stand()
    {
        var (store, id) = await CampaignAsync(10);
        GrantUser[] users = [new(1, "a", null, null), new(2, "bad\u0001", GrantOutcome.Invalid, null), new(3, "b", null, null)];
        var (grant, created) = await store.CreateGrantAsync(id, "grant-1", "operator", T0, users, Ct);
        Assert.True(created);
        Assert.Equal((id, "grant-1", "operator", T0, (DateTimeOffset?)null, 3, 0, 1), (grant.CampaignId, grant.GrantId, grant.Actor, grant.CreatedAt, grant.DoneAt, grant.Requested, grant.Issued, grant.Invalid));
        var (again, createdAgain) = await store.CreateGrantAsync(id, "grant-1", "someone-else", T0.AddSeconds(1), [new(1, "z", null, null)], Ct);
        Assert.False(createdAgain);
        Assert.Equal(grant, again);
        Assert.Equal(grant, await store.GetGrantAsync(id, "grant-1", Ct));
        Assert.Null(await store.GetGrantAsync(id, "grant-2", Ct));
        Assert.Equal([grant], await store.ListUnfinishedGrantsAsync(Ct));
        Assert.Equal([users[0], users[2]], await store.ListGrantUsersAsync(grant.GrantNo, 0, 10, pendingOnly: true, Ct));
        Assert.Equal(users, await store.ListGrantUsersAsync(grant.GrantNo, 0, 10, pendingOnly: false, Ct));
        Assert.Equal([users[2]], await store.ListGrantUsersAsync(grant.GrantNo, 1, 10, pendingOnly: true, Ct));

        // A granted coupon: its window is minus the grant's number; it counts for the campaign, in no window.
        var granted = Coupon(id, 1, "a", window: -grant.GrantNo);
        Assert.Equal([new CommitOutcome(CommitStatus.Inserted, granted)], await store.CommitAsync([granted], Ct));
        Assert.Equal(granted, await store.FindCouponAsync(id, 1, Ct));
        await AssertCountsAsync(store, id, 1, 0);
        await AssertInvariantsHoldAsync(store, id, 1);

        var first = await store.RecordGrantOutcomesAsync(grant.GrantNo, [users[0] with { Outcome = GrantOutcome.Issued, Code = granted.Code }], T0.AddSeconds(2), Ct);
        Assert.Equal((1, 1, (DateTimeOffset?)null), (first.Issued, first.Invalid, first.DoneAt));
        // A replay changes nothing: the first outcome stands and is counted once.
        var replay = await store.RecordGrantOutcomesAsync(grant.GrantNo, [users[0] with { Outcome = GrantOutcome.SoldOut }], T0.AddSeconds(3), Ct);
        Assert.Equal(first, replay);
        var done = await store.RecordGrantOutcomesAsync(grant.GrantNo, [users[2] with { Outcome = GrantOutcome.AlreadyHeld }], T0.AddSeconds(4), Ct);
        Assert.Equal((1, 1, 1, 0, 0, (DateTimeOffset?)T0.AddSeconds(4)), (done.Issued, done.AlreadyHeld, done.Invalid, done.SoldOut, done.Cancelled, done.DoneAt));
        Assert.Equal(users[0] with { Outcome = GrantOutcome.Issued, Code = granted.Code }, (await store.ListGrantUsersAsync(grant.GrantNo, 0, 1, pendingOnly: false, Ct))[0]);
        Assert.Empty(await store.ListGrantUsersAsync(grant.GrantNo, 0, 10, pendingOnly: true, Ct));
        Assert.Empty(await store.ListUnfinishedGrantsAsync(Ct));
        Assert.Equal([done], await store.ListGrantsAsync(id, 10, Ct));

        var (allInvalid, _) = await store.CreateGrantAsync(id, "grant-2", "operator", T0.AddSeconds(5), [new(1, "", GrantOutcome.Invalid, null)], Ct);
        Assert.Equal(T0.AddSeconds(5), allInvalid.DoneAt); // nothing left to do: done at once
        Assert.Equal([allInvalid.GrantNo, grant.GrantNo], (await store.ListGrantsAsync(id, 10, Ct)).Select(g => g.GrantNo));
    }

    [Fact]
    public async Task The_store_reports_healthy()
    {
        var store = await StoreAsync();
        Assert.True(await store.IsHealthyAsync(Ct));
    }
}

/// <summary>The contract against the embedded store: a SQLite file in a fresh temp folder.</summary>
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"couponlive-store-{Guid.NewGuid():N}");

    protected override ValueTask CreateDatabaseAsync()
    {
        Directory.CreateDirectory(_folder);
        return ValueTask.CompletedTask;
    }

    protected override ICouponStore NewStore() => new SqliteCouponStore(Path.Combine(_folder, "couponlive.db"));

    protected override async Task MigrateToAsync(int version)
    {
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_folder, "couponlive.db")}");
        await conn.OpenAsync(Ct);
        await SqliteMigrations.ApplyAsync(conn, Ct, upTo: version);
    }

    protected override async Task<long> InsertVersion1CampaignAsync(string name, int quantity)
    {
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_folder, "couponlive.db")}");
        await conn.OpenAsync(Ct);
        return await conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO campaigns(name, total_quantity, created_at) VALUES (@name, @quantity, @at);
            INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at) VALUES (last_insert_rowid(), 0, @starts, @ends);
            SELECT MAX(campaign_id) FROM campaigns;
            """, new { name, quantity, at = T0.ToUnixTimeMilliseconds(), starts = T0.AddHours(-1).ToUnixTimeMilliseconds(), ends = T0.AddHours(1).ToUnixTimeMilliseconds() });
    }

    protected override async Task InsertVersion1CouponAsync(IssuedCoupon c)
    {
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_folder, "couponlive.db")}");
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(
            """
            INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, issued_at, committed_at) VALUES (@CampaignId, @Sequence, @UserId, @Code, 0, @At, @At);
            UPDATE campaigns SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId;
            UPDATE campaign_windows SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId AND window_index = 0;
            """, new { c.CampaignId, c.Sequence, c.UserId, c.Code, At = c.IssuedAt.ToUnixTimeMilliseconds() });
    }

    protected override async Task RefuseEventWritesAsync(string statement, bool refuse)
    {
        await using var conn = new SqliteConnection($"Data Source={Path.Combine(_folder, "couponlive.db")}");
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(refuse
            // Not RAISE(): that is a constraint failure, which the store takes for a refused row; a malformed JSON is an error.
            ? $"CREATE TRIGGER refuse_events_{statement} BEFORE {statement} ON events BEGIN SELECT json('injected: the outbox refuses'); END"
            : $"DROP TRIGGER refuse_events_{statement}");
    }

    protected override ValueTask DropDatabaseAsync()
    {
        SqliteConnection.ClearAllPools(); // pooled connections keep the file open
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The contract against the production store. COUPONLIVE_TEST_POSTGRES is a connection string
/// whose user may create databases; each test gets a database of its own, dropped afterwards.
/// </summary>
public sealed class PostgresStoreContractTests : StoreContractTests
{
    private const string Variable = "COUPONLIVE_TEST_POSTGRES";
    private readonly string _database = $"couponlive_test_{Guid.NewGuid():N}";
    private string? _admin;

    protected override async ValueTask CreateDatabaseAsync()
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Fail($"{Variable} is not set: run ./scripts/test.sh, which starts a PostgreSQL server for the tests and sets it.");
        }
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync($"CREATE DATABASE \"{_database}\"");
        _admin = admin;
    }

    protected override ICouponStore NewStore() =>
        PostgresCouponStore.Open(new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString);

    protected override async Task MigrateToAsync(int version)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString);
        await conn.OpenAsync(Ct);
        await PostgresMigrations.ApplyAsync(conn, Ct, upTo: version);
    }

    protected override async Task<long> InsertVersion1CampaignAsync(string name, int quantity)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString);
        await conn.OpenAsync(Ct);
        return await conn.ExecuteScalarAsync<long>(
            """
            WITH c AS (INSERT INTO campaigns(name, total_quantity, created_at) VALUES (@name, @quantity, @at) RETURNING campaign_id),
                 w AS (INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at) SELECT campaign_id, 0, @starts, @ends FROM c)
            SELECT campaign_id FROM c
            """, new { name, quantity, at = T0, starts = T0.AddHours(-1), ends = T0.AddHours(1) });
    }

    protected override async Task InsertVersion1CouponAsync(IssuedCoupon c)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(
            """
            INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, issued_at, committed_at) VALUES (@CampaignId, @Sequence, @UserId, @Code, 0, @At, @At);
            UPDATE campaigns SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId;
            UPDATE campaign_windows SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId AND window_index = 0;
            """, new { c.CampaignId, c.Sequence, c.UserId, c.Code, At = c.IssuedAt });
    }

    protected override async Task RefuseEventWritesAsync(string statement, bool refuse)
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_admin) { Database = _database }.ConnectionString);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(refuse
            ? $"""
              CREATE OR REPLACE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected: the outbox refuses'; END $$;
              CREATE TRIGGER refuse_events_{statement} BEFORE {statement} ON events FOR EACH ROW EXECUTE FUNCTION refuse_events();
              """
            : $"DROP TRIGGER refuse_events_{statement} ON events");
    }

    [Fact]
    public async Task A_commit_to_an_unreachable_server_throws_so_the_writer_retries()
    {
        // Port 1 on loopback refuses at once: a transient failure must surface, never become Rejected.
        var closed = new NpgsqlConnectionStringBuilder(_admin) { Port = 1, Timeout = 2 }.ConnectionString;
        await using var store = PostgresCouponStore.Open(closed);
        var coupon = new IssuedCoupon(1, "u", 1, "0000000000", DateTimeOffset.UnixEpoch, CouponSource.Window(0));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => store.CommitAsync([coupon], Ct));
    }

    protected override async ValueTask DropDatabaseAsync()
    {
        if (_admin is null) return;
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await conn.ExecuteAsync($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
    }
}

/// <summary>
/// The contract against the MySQL / MariaDB store. COUPONLIVE_TEST_MYSQL is a connection string whose user may
/// create databases; each test gets a database of its own, dropped afterwards.
/// </summary>
public sealed class MySqlStoreContractTests : StoreContractTests
{
    private const string Variable = "COUPONLIVE_TEST_MYSQL";
    private readonly string _database = $"couponlive_test_{Guid.NewGuid():N}";
    private string? _admin;

    private string TestDatabase => new MySqlConnectionStringBuilder(_admin!) { Database = _database }.ConnectionString;

    protected override async ValueTask CreateDatabaseAsync()
    {
        var admin = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            Assert.Fail($"{Variable} is not set: run ./scripts/test.sh, which starts a MariaDB server for the tests and sets it.");
        }
        await using var conn = new MySqlConnection(admin);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync($"CREATE DATABASE `{_database}`");
        _admin = admin;
    }

    protected override ICouponStore NewStore() => MySqlCouponStore.Open(TestDatabase);

    // The MySQL schema starts at the latest layout: its version 1 is the oldest a release has left.
    protected override async Task MigrateToAsync(int version)
    {
        await using var conn = new MySqlConnection(TestDatabase);
        await conn.OpenAsync(Ct);
        await MySqlMigrations.ApplyAsync(conn, Ct, upTo: version);
    }

    protected override async Task<long> InsertVersion1CampaignAsync(string name, int quantity)
    {
        await using var conn = new MySqlConnection(TestDatabase);
        await conn.OpenAsync(Ct);
        return await conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO campaigns(name, total_quantity, created_at) VALUES (@name, @quantity, @at);
            INSERT INTO campaign_windows(campaign_id, window_index, starts_at, ends_at) VALUES (LAST_INSERT_ID(), 0, @starts, @ends);
            SELECT MAX(campaign_id) FROM campaigns;
            """, new { name, quantity, at = T0.UtcDateTime, starts = T0.AddHours(-1).UtcDateTime, ends = T0.AddHours(1).UtcDateTime });
    }

    protected override async Task InsertVersion1CouponAsync(IssuedCoupon c)
    {
        await using var conn = new MySqlConnection(TestDatabase);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(
            """
            INSERT INTO coupons(campaign_id, sequence, user_id, code, window_index, issued_at, committed_at) VALUES (@CampaignId, @Sequence, @UserId, @Code, 0, @At, @At);
            UPDATE campaigns SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId;
            UPDATE campaign_windows SET issued_count = issued_count + 1 WHERE campaign_id = @CampaignId AND window_index = 0;
            """, new { c.CampaignId, c.Sequence, c.UserId, c.Code, At = c.IssuedAt.UtcDateTime });
    }

    [Fact]
    public async Task A_commit_to_an_unreachable_server_throws_so_the_writer_retries()
    {
        // Port 1 on loopback refuses at once: a transient failure must surface, never become Rejected.
        var closed = new MySqlConnectionStringBuilder(_admin!) { Port = 1, ConnectionTimeout = 2 }.ConnectionString;
        await using var store = MySqlCouponStore.Open(closed);
        var coupon = new IssuedCoupon(1, "u", 1, "0000000000", DateTimeOffset.UnixEpoch, CouponSource.Window(0));
        await Assert.ThrowsAnyAsync<MySqlException>(() => store.CommitAsync([coupon], Ct));
    }

    protected override async Task RefuseEventWritesAsync(string statement, bool refuse)
    {
        await using var conn = new MySqlConnection(TestDatabase);
        await conn.OpenAsync(Ct);
        await conn.ExecuteAsync(refuse
            ? $"CREATE TRIGGER refuse_events_{statement} BEFORE {statement} ON events FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected: the outbox refuses'"
            : $"DROP TRIGGER refuse_events_{statement}");
    }

    protected override async ValueTask DropDatabaseAsync()
    {
        if (_admin is null) return;
        MySqlConnection.ClearAllPools();
        await using var conn = new MySqlConnection(_admin);
        await conn.OpenAsync();
        await conn.ExecuteAsync($"DROP DATABASE IF EXISTS `{_database}`");
    }
}
