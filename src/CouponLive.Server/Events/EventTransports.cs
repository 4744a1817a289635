namespace CouponLive.Events;

/// <summary>The values of <c>Events:Transport</c>.</summary>
public static class EventTransports
{
    public const string None = "none";
    public const string RabbitMq = "rabbitmq";
    public const string Sqs = "sqs";
}
