using System.Net;
using CouponLive.Campaigns;
using CouponLive.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CouponLive.Tests.Edges;

/// <summary>
/// The change rule (docs/architecture.md, "Live changes"): a campaign change is applied to the store and the gate
/// entirely or not at all, whatever fails at whichever step. Each case fails one step of a pause (or of ending the open
/// window) of a live campaign, on the real store and gate, then checks that they agree: a new user is issued exactly
/// when the store says the campaign is open, told "paused" exactly when it says paused, and a resume reopens it.
/// </summary>
public abstract class ChangeRuleTests(ServerMode mode) : EdgeServer(mode)
{
    public static TheoryData<string, string> Steps => new()
    {
        { "edit-write", "pause" },     // the store refuses the new definition: the gate is never asked
        { "gate-unreached", "pause" }, // the gate call fails before it reaches the gate
        { "gate-unknown", "pause" },   // the gate took the change, its answer was lost
        { "finish-write", "pause" },   // the gate took it; writing the gate's instant to the store fails
        { "finish-write", "end-window" },
        { "commit", "pause" },         // the gate took it; the store's commit fails
        { "client-gone", "pause" },    // the gate took it; the operator's client went away
        { "client-gone", "end-window" },
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public async Task A_change_failing_at_any_step_leaves_the_store_and_the_gate_agreeing(string step, string change)
    {
        var id = (await Server.CreateCampaignAsync(100))["id"]!.GetValue<long>();
        foreach (var u in Enumerable.Range(0, 5)) Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("before"), id)).Status);

        using var gone = new CancellationTokenSource();
        switch (step)
        {
            case "edit-write": Plan.Fail("ICampaignEdit.WriteAsync", FaultPlan.When.Before); break;
            case "gate-unreached": Plan.Fail("IAdmissionGate.ChangeAsync", FaultPlan.When.Before); break;
            case "gate-unknown": Plan.Fail("IAdmissionGate.ChangeAsync", FaultPlan.When.After); break;
            case "finish-write":
                Plan.Arm("IAdmissionGate.ChangeAsync", FaultPlan.When.After, () =>
                {
                    Plan.Fail("ICampaignEdit.WriteAsync", FaultPlan.When.Before);
                    return Task.CompletedTask;
                });
                break;
            case "commit": Plan.Fail("ICampaignEdit.CommitAsync", FaultPlan.When.Before); break;
            case "client-gone":
                Plan.Arm("IAdmissionGate.ChangeAsync", FaultPlan.When.After, () =>
                {
                    gone.Cancel(); // as the request's abort token fires when its client goes away
                    return Task.CompletedTask;
                });
                break;
        }

        // Called on the application core, as every transport does, with the request's abort token.
        var campaigns = Server.Services.GetRequiredService<CampaignService>();
        try
        {
            var answer = change == "pause"
                ? await campaigns.PauseAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "operator", null, gone.Token)
                : await campaigns.EndCurrentWindowAsync(id.ToString(System.Globalization.CultureInfo.InvariantCulture), "operator", null, gone.Token);
            Assert.True(answer.Failure is null || answer.Failure.Code == ErrorCodes.ServiceUnavailable, $"{step}: {answer.Failure?.Code} {answer.Failure?.Message}");
        }
        catch (Exception ex) when (step is "edit-write" or "client-gone" && ex is Npgsql.NpgsqlException or OperationCanceledException)
        {
            // Refused before anything changed (the transports answer these 503 or not at all).
        }
        Plan.Disarm();

        await AssertStoreAndGateAgreeAsync(id, change);
        await AssertInvariantsAsync(id);
    }

    /// <summary>What the store says, the gate does: a fresh user is issued, or told why not; after a resume, issued.</summary>
    private async Task AssertStoreAndGateAgreeAsync(long id, string change)
    {
        var stored = await StoredAsync(id);
        var (status, code) = await IssueAsync(NewUser("after"), id);
        if (stored.PausedAt is not null)
        {
            Assert.True((status, code) == (HttpStatusCode.Conflict, "campaign.paused"), $"the store says paused, the gate answered {(int)status} {code}");
            using var admin = await AdminAsync();
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/campaigns/{id}/resume", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("resumed"), id)).Status);
        }
        else if (change == "end-window" && stored.Windows[0].EndsAt <= DateTimeOffset.UtcNow)
        {
            Assert.True(status == HttpStatusCode.Conflict && code is "campaign.ended" or "campaign.not_open",
                $"the store says the window ended, the gate answered {(int)status} {code}");
        }
        else
        {
            Assert.True(status == HttpStatusCode.Created, $"the store says open (version {stored.Version}), the gate answered {(int)status} {code}");
        }
    }
}

public sealed class EmbeddedChangeRuleTests() : ChangeRuleTests(ServerMode.Embedded);

public sealed class ProductionChangeRuleTests() : ChangeRuleTests(ServerMode.Production)
{
    protected override Dictionary<string, string?> Settings => new() { ["Redis:OwnerCheckInterval"] = "00:00:00.250" };

    /// <summary>
    /// The commit fails and Redis cannot be reached to drop the gate either: the gate is paused at a version the store
    /// never committed. The failover watch sees the versions differ on two checks with no change in progress and drops
    /// it, so the campaign issues again from the store's rules, with no operator.
    /// </summary>
    [Fact]
    public async Task A_gate_left_changed_by_a_change_the_store_never_committed_is_dropped_and_rebuilt()
    {
        var id = (await Server.CreateCampaignAsync(100))["id"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("before"), id)).Status);
        Plan.Fail("ICampaignEdit.CommitAsync", FaultPlan.When.Before);
        Plan.Fail("IAdmissionGate.EvictAsync", FaultPlan.When.Before, new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "injected"));

        using var admin = await AdminAsync();
        var pause = await admin.PostAsync($"/api/v1/campaigns/{id}/pause", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, pause.StatusCode);
        Assert.NotNull(pause.Headers.RetryAfter);
        Assert.Null((await StoredAsync(id)).PausedAt);
        Assert.Equal("p", (await RedisAsync("HGET", GateKey(id, "meta"), "state")).Trim()); // the gate did take it

        Assert.True(await EventuallyAsync(async () => (await IssueAsync(NewUser("healed"), id)).Status == HttpStatusCode.Created, TimeSpan.FromSeconds(30)),
            "the gate stayed paused although the store says open");
        Assert.Equal("", (await RedisAsync("HGET", GateKey(id, "meta"), "state")).Trim());
        await AssertInvariantsAsync(id);
    }
}

public sealed class MySqlChangeRuleTests() : ChangeRuleTests(ServerMode.ProductionMySql);
