using System.Net;
using CouponLive.Tests.Infrastructure;
using Npgsql;
using StackExchange.Redis;

namespace CouponLive.Tests.Edges;

/// <summary>
/// The issue path meets a store that refuses an admitted issue (its stock was lowered behind the gate's back) while Redis
/// cannot be reached to drop the gate: the client hears 503 with Retry-After, never 500, and once Redis answers the gate
/// is rebuilt from the store and the campaign answers from the store's rules.
/// </summary>
public sealed class IssuePathRepairTests() : EdgeServer(ServerMode.Production)
{
    [Fact]
    public async Task A_refused_commit_whose_gate_cannot_be_dropped_answers_503_then_heals()
    {
        var id = (await Server.CreateCampaignAsync(10))["id"]!.GetValue<long>();
        foreach (var _ in Enumerable.Range(0, 3)) Assert.Equal(HttpStatusCode.Created, (await IssueAsync(NewUser("before"), id)).Status);
        await using (var conn = new NpgsqlConnection(Server.State.Postgres))
        {
            await conn.OpenAsync();
            await using var lower = new NpgsqlCommand("UPDATE campaigns SET total_quantity = issued_count WHERE campaign_id = @id", conn);
            lower.Parameters.AddWithValue("id", id);
            Assert.Equal(1, await lower.ExecuteNonQueryAsync());
        }
        Plan.Fail("IAdmissionGate.EvictAsync", FaultPlan.When.Before, new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "injected"));

        using var client = User(NewUser("refused"));
        var refused = await client.PostAsync($"/api/v1/campaigns/{id}/issue", null);
        await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "service.unavailable");
        Assert.NotNull(refused.Headers.RetryAfter);

        // Redis answers again: the next refusal drops the gate, and the rebuilt gate knows the stock is gone.
        Assert.True(await EventuallyAsync(async () => (await IssueAsync(NewUser("late"), id)).Code == "campaign.sold_out", TimeSpan.FromSeconds(20)));
        var report = await AssertInvariantsAsync(id);
        Assert.Equal(3, report.Rows);
    }
}
