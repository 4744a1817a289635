using System.ComponentModel.DataAnnotations;

namespace CouponLive.Events;

/// <summary>The outbox's relay and its transport (section <c>Events</c>).</summary>
public sealed class EventsOptions
{
    /// <summary>
    /// <c>none</c>: events go to the feed only (GET /api/v1/events); <c>rabbitmq</c>: also to a topic exchange
    /// (ConnectionStrings:RabbitMq, <see cref="Exchange"/>); <c>sqs</c>: also to an SQS FIFO queue (<see cref="Sqs"/>).
    /// </summary>
    [RegularExpression("^(none|rabbitmq|sqs)$", ErrorMessage = "Events:Transport must be none, rabbitmq or sqs.")]
    public string Transport { get; set; } = EventTransports.None;

    /// <summary>The durable topic exchange the RabbitMQ transport publishes to (routing key: the event type).</summary>
    [RegularExpression("^[A-Za-z0-9._:-]{1,200}$", ErrorMessage = "Events:Exchange must be 1-200 letters, digits, '.', '_', ':' or '-'.")]
    public string Exchange { get; set; } = "couponlive.events";

    /// <summary>The SQS transport's queue (section <c>Events:Sqs</c>).</summary>
    public EventsSqsOptions Sqs { get; set; } = new();

    /// <summary>The CloudEvents source attribute of every event.</summary>
    [Required(ErrorMessage = "Events:Source must be set (a URI reference such as /couponlive).")]
    public string Source { get; set; } = "/couponlive";

    /// <summary>How long a sent event stays in the outbox (and the feed) before it is deleted.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00", ErrorMessage = "Events:Retention must be between 1 minute and 365 days.")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long the relay lease lasts without renewal: another process takes over within about this long after the holder dies.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "Events:LeaseTime must be between 1 second and 1 minute.")]
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the relay looks for new events when it found none.</summary>
    [Range(typeof(TimeSpan), "00:00:00.020", "00:00:10", ErrorMessage = "Events:PollInterval must be between 20 ms and 10 seconds.")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Events published per step.</summary>
    [Range(1, 5000, ErrorMessage = "Events:BatchSize must be between 1 and 5,000.")]
    public int BatchSize { get; set; } = 1000;
}
