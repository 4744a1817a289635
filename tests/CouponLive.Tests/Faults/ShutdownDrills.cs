using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using CouponLive.Tests.Infrastructure;
using Grpc.Net.Client;

namespace CouponLive.Tests.Faults;

/// <summary>
/// One process stopped with SIGTERM, as a deploy or Kubernetes stops it: unready at once, still serving through the
/// drain delay (an issue sent then gets its commit and its answer), its live streams closed at the start of the stop
/// rather than holding it for the host's whole timeout, and an exit 0.
/// </summary>
public sealed class ShutdownDrills
{
    private static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HostTimeout = TimeSpan.FromSeconds(25); // the drain delay and Shutdown:Timeout (20 s)

    [Theory]
    [InlineData(ServerMode.Embedded)]
    [InlineData(ServerMode.Production)]
    public async Task A_stopped_process_turns_unready_serves_through_its_drain_delay_ends_live_streams_and_exits_0(ServerMode mode)
    {
        var state = await CouponLiveServer.NewStateAsync(mode);
        var settings = new Dictionary<string, string> { ["Shutdown__DrainDelay"] = "00:00:05", ["Shutdown__Timeout"] = "00:00:20" };
        var server = await ServerProcess.StartAsync(state, settings, grpc: true);
        string code;
        await using (server)
        {
            var campaign = await TestCampaigns.CreateAsync(server.BaseAddress, 10);
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            using var channel = GrpcChannel.ForAddress(server.GrpcAddress!);
            var health = new Grpc.Health.V1.Health.HealthClient(channel);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/startup")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new())).Status);

            // A live stream, open when the stop comes.
            using var live = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{campaign}/live");
            live.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("operator", "admin"));
            using var stream = await http.SendAsync(live, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            var streamEnded = Task.Run(async () =>
            {
                while (await reader.ReadLineAsync() is not null) { }
            });

            var stopping = Stopwatch.StartNew();
            await server.TerminateAsync();

            // The stream ends at the start of the stop, while the process still serves.
            await streamEnded.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(server.HasExited, "the live stream must end before the process stops serving");

            // Unready at once (HTTP and gRPC), alive, and still serving: an issue sent now is committed and answered.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new())).Status);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
            using var issue = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/issue");
            issue.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("drain-user"));
            using var issued = await http.SendAsync(issue);
            Assert.True(issued.StatusCode == HttpStatusCode.Created, $"{(int)issued.StatusCode} {await issued.Content.ReadAsStringAsync()}");
            code = (await issued.ReadJsonAsync())["code"]!.GetValue<string>();
            var servedUntil = stopping.Elapsed;

            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var took = stopping.Elapsed;
            // Not a speed bound: a stream that held the stop would keep it for the host's whole timeout.
            Assert.True(took < HostTimeout, $"the stop took {took.TotalSeconds:F1} s, the host's timeout is {HostTimeout.TotalSeconds:F0} s:\n{server.Output}");
            Assert.True(servedUntil < took, "the drain-time requests were answered before the exit");
            Assert.Contains("Stopping: unready now", server.Output, StringComparison.Ordinal);
            TestContext.Current.SendDiagnosticMessage(
                $"shutdown {mode}: served {servedUntil.TotalSeconds:F1} s into a {DrainDelay.TotalSeconds:F0} s drain delay, exited 0 after {took.TotalSeconds:F1} s");
        }

        // The answer given during the drain has its row: a new process on the same state returns it.
        await using var again = await ServerProcess.StartAsync(state);
        using var user = new HttpClient { BaseAddress = again.BaseAddress };
        user.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("drain-user"));
        var mine = (await (await user.GetAsync("/api/v1/me/coupons")).ReadJsonAsync())["items"]!.AsArray();
        Assert.Equal([code], mine.Select(c => c!["code"]!.GetValue<string>()));
        if (state.Postgres is { } db) await TestServices.DropDatabaseAsync(db);
    }
}
