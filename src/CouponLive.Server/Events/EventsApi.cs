using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Events;

/// <summary>GET /api/v1/events: the feed of every event the outbox holds, for an admin or a service, in every transport.</summary>
public static class EventsApi
{
    public const string ReaderPolicy = "events.reader";

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events", ReadFeed).WithTags("Events").RequireAuthorization(ReaderPolicy);
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
}
