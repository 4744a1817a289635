namespace CouponLive.Events;

/// <summary>The SQS FIFO queue of the <c>sqs</c> transport (section <c>Events:Sqs</c>; credentials from the AWS SDK's usual chain).</summary>
public sealed class EventsSqsOptions
{
    /// <summary>The queue's URL; its name ends in <c>.fifo</c>.</summary>
    public string? QueueUrl { get; set; }

    /// <summary>Another endpoint than AWS's for the region (an SQS-compatible service); unset for AWS.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The AWS region (and the signing region of <see cref="ServiceUrl"/>).</summary>
    public string Region { get; set; } = "us-east-1";
}
