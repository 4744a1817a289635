using System.Reflection;
using System.Text.Json;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Http;
using CouponLive.Lifecycle;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Dashboard;

/// <summary>The dashboard: its static page, and the live view of a campaign pushed once a second (server-sent events).</summary>
public static partial class DashboardApi
{
    private static readonly TimeSpan MaxStream = TimeSpan.FromHours(2);

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dashboard", () => Asset("index.html")).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file) => Asset(file)).ExcludeFromDescription();
        app.MapGet("/api/v1/campaigns/{id}/live", StreamLive).WithTags("Dashboard").RequireAuthorization(Roles.Admin);
        return app;
    }

    /// <summary>
    /// One JSON snapshot per second as an event stream, until the client leaves (at most two hours) or the process
    /// starts to stop: a stream would otherwise hold the stop for the host's whole shutdown timeout. The dashboard
    /// reconnects (EventSource does), through the load balancer, to a process that is not stopping.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamLive(
        string id, HttpContext http, LiveViewService view, TimeProvider time, ProcessState process, CancellationToken aborted)
    {
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(aborted, process.Stopping);
        var ct = stream.Token;
        if (await view.FindAsync(id, ct) is not { } campaign) return Problems.Of(CampaignService.NotFound);

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // let a proxy pass events through at once
        var until = time.GetUtcNow() + MaxStream;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        do
        {
            // The cached campaign of this second: an operator's change (pause, stock) shows within a second.
            LiveSnapshot snapshot;
            try
            {
                campaign = await view.FindAsync(id, ct) ?? campaign;
                snapshot = await view.SnapshotAsync(campaign, ct);
            }
            catch (Exception ex) when (http.Response.HasStarted && DependencyOutage.Is(ex))
            {
                // The store or Redis went away mid-stream: the stream ends cleanly and the dashboard reconnects
                // (EventSource does); before the first event the exception handler answers 503 instead.
                LogStreamEnded(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DashboardApi)), campaign.Id, DependencyOutage.Describe(ex));
                break;
            }
            await http.Response.WriteAsync("data: ", ct);
            await JsonSerializer.SerializeAsync(http.Response.Body, snapshot, AppJsonContext.Default.LiveSnapshot, ct);
            await http.Response.WriteAsync("\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
        }
        while (time.GetUtcNow() < until && await NextTickAsync(timer, process, ct));
        return TypedResults.Empty;
    }

    /// <summary>False once the process stops (the stream ends cleanly); a client that left still cancels.</summary>
    private static async Task<bool> NextTickAsync(PeriodicTimer timer, ProcessState process, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException) when (process.Stopping.IsCancellationRequested)
        {
            return false;
        }
    }

    private static IResult Asset(string file)
    {
        var contentType = Path.GetExtension(file) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => null,
        };
        var stream = contentType is null ? null : Assembly.GetExecutingAssembly().GetManifestResourceStream("dashboard/" + file);
        return stream is null
            ? Problems.Of(404, ErrorCodes.NotFound, "No such dashboard file.")
            : Results.Stream(stream, contentType);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live view of campaign {CampaignId} ended: a dependency is unavailable ({Cause})")]
    private static partial void LogStreamEnded(ILogger logger, long campaignId, string cause);
}
