using System.Net;
using System.Net.Http.Json;
using CouponLive.Tests.Infrastructure;

namespace CouponLive.Tests.Api;

/// <summary>
/// Many grants created at the same moment: each creation wakes the grant runner, and waking it twice at once
/// must never fail the request (it once threw SemaphoreFullException: a 500). Every answer is 202 (200 for the
/// same grant again), and every grant is carried out.
/// </summary>
public sealed class ConcurrentGrantTests
{
    private const int Grants = 48;
    private const int UsersPerGrant = 5;

    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task Grants_created_at_once_are_all_accepted_and_all_carried_out(ServerMode mode)
    {
        var state = await CouponLiveServer.NewStateAsync(mode);
        try
        {
            await using var server = CouponLiveServer.Start(state);
            var campaign = await server.CreateCampaignAsync(Grants * UsersPerGrant);
            var id = campaign["id"]!.GetValue<long>();
            using var admin = server.NewClient(TestTokens.Mint("operator", "admin"), maxConnections: Grants);

            Task<HttpResponseMessage[]> CreateAll() => Task.WhenAll(Enumerable.Range(0, Grants).Select(g =>
                admin.PostAsJsonAsync($"/api/v1/campaigns/{id}/grants", new
                {
                    grantId = $"burst-{g}",
                    userIds = Enumerable.Range(0, UsersPerGrant).Select(u => $"burst-{g}-{u}").ToArray(),
                })));
            var first = await CreateAll();
            var again = await CreateAll(); // the same grants: 200 each, nothing new
            Assert.True(first.All(r => r.StatusCode == HttpStatusCode.Accepted), string.Join(", ", first.Select(r => (int)r.StatusCode)));
            Assert.True(again.All(r => r.StatusCode == HttpStatusCode.OK), string.Join(", ", again.Select(r => (int)r.StatusCode)));

            var deadline = DateTime.UtcNow.AddSeconds(120);
            var running = Enumerable.Range(0, Grants).Select(g => $"burst-{g}").ToHashSet();
            while (running.Count > 0 && DateTime.UtcNow < deadline)
            {
                foreach (var grantId in running.ToList())
                {
                    var grant = await (await admin.GetAsync($"/api/v1/campaigns/{id}/grants/{grantId}?limit=1")).ReadJsonAsync();
                    if (grant["status"]!.GetValue<string>() != "done") continue;
                    Assert.Equal(UsersPerGrant, grant["issued"]!.GetValue<int>());
                    running.Remove(grantId);
                }
                if (running.Count > 0) await Task.Delay(100);
            }
            Assert.True(running.Count == 0, $"{running.Count} grants not done in 120 s: {string.Join(", ", running.Take(5))}");
            var report = await server.CheckAsync(campaign);
            Assert.True(report.Violations().Count == 0 && report.Rows == Grants * UsersPerGrant, report.ToString());
        }
        finally
        {
            await state.DropDatabaseAsync();
        }
    }
}
