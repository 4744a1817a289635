using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CouponLive.Events;

/// <summary>
/// GET /api/v1/events: the feed of every event the outbox holds, for an admin or a service, in every transport;
/// GET /api/v1/events/backlog: what waits for the broker (read from the store, whichever process publishes).
/// </summary>
public static class EventsApi
{
    public const string ReaderPolicy = "events.reader";

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events", ReadFeed).WithTags("Events").RequireAuthorization(ReaderPolicy);
        app.MapGet("/api/v1/events/backlog", ReadBacklog).WithTags("Events").RequireAuthorization(ReaderPolicy);
        return app;
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ReadFeed(
        string? after, string? limit, IEventStore store, CloudEventJson json, CancellationToken ct)
    {
        var afterPosition = 0L;
        if (after is not null && !Digits.TryParse(after, out afterPosition))
            return Problems.Of(400, ErrorCodes.InvalidPaging, "after must be a cursor from a previous page's next.", "after");
        var pageSize = EventFeed.DefaultLimit;
        if (limit is not null)
        {
            if (!Digits.TryParse(limit, out var l) || l is < 1 or > EventFeed.MaxLimit)
                return Problems.Of(400, ErrorCodes.InvalidPaging, $"limit must be 1 to {EventFeed.MaxLimit}.", "limit");
            pageSize = (int)l;
        }
        var events = await store.ReadEventFeedAsync(afterPosition, pageSize, ct);
        return TypedResults.File(EventFeed.Write(events, afterPosition, json), "application/json");
    }

    public static async Task<Ok<EventBacklogView>> ReadBacklog(IEventStore store, IOptions<EventsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var backlog = await store.GetEventBacklogAsync(ct);
        var age = backlog.OldestPending is { } oldest ? Math.Max(0, (time.GetUtcNow() - oldest).TotalSeconds) : (double?)null;
        return TypedResults.Ok(new EventBacklogView(options.Value.Transport, backlog.Pending, age, backlog.Parked));
    }
}
