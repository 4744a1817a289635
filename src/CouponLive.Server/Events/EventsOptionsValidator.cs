using Microsoft.Extensions.Options;

namespace CouponLive.Events;

/// <summary>Checks at start that the chosen transport has what it needs, so a missing setting stops the service with its name.</summary>
public sealed class EventsOptionsValidator(IConfiguration config) : IValidateOptions<EventsOptions>
{
    public ValidateOptionsResult Validate(string? name, EventsOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.Source, UriKind.RelativeOrAbsolute, out _) || options.Source.Any(char.IsWhiteSpace))
            errors.Add("Events:Source must be a URI reference such as /couponlive or https://coupons.example.com.");
        switch (options.Transport)
        {
            case EventTransports.RabbitMq:
                if (config.GetConnectionString("RabbitMq") is not { Length: > 0 } amqp)
                    errors.Add("Events:Transport is rabbitmq but ConnectionStrings:RabbitMq is not set (an amqp:// or amqps:// URI).");
                else if (!Uri.TryCreate(amqp, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
                    errors.Add("ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI.");
                break;
            case EventTransports.Sqs:
                if (!Uri.TryCreate(options.Sqs.QueueUrl, UriKind.Absolute, out var queue) || queue.Scheme is not ("https" or "http"))
                    errors.Add("Events:Transport is sqs but Events:Sqs:QueueUrl is not an absolute http(s) URL.");
                else if (!queue.AbsolutePath.EndsWith(".fifo", StringComparison.Ordinal))
                    errors.Add("Events:Sqs:QueueUrl must name a FIFO queue (its name ends in .fifo): events keep their order per campaign only there.");
                if (options.Sqs.ServiceUrl is { } service && (!Uri.TryCreate(service, UriKind.Absolute, out var s) || s.Scheme is not ("https" or "http")))
                    errors.Add("Events:Sqs:ServiceUrl must be an absolute http(s) URL.");
                if (string.IsNullOrWhiteSpace(options.Sqs.Region)) errors.Add("Events:Sqs:Region must not be empty.");
                break;
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
