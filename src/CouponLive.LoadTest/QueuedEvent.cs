namespace CouponLive.LoadTest;

/// <summary>What the load tool's consumer keeps of one message: the event id and, for an issued event, whose coupon it names.</summary>
public readonly record struct QueuedEvent(string Id, string? PartitionKey, string? Type, string? UserId, string? Code);
