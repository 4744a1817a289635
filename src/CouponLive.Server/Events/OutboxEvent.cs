namespace CouponLive.Events;

/// <summary>
/// An event as a store writes it into its outbox, in the transaction of the change it reports. Its data is
/// <see cref="DataHead"/>, the campaign's name as a JSON string, then <see cref="DataTail"/>: the store reads the name
/// from the campaign's row in that transaction, so the event names the campaign as it was at commit.
/// </summary>
public sealed record OutboxEvent(Guid Id, long CampaignId, string Type, string Subject, DateTimeOffset Time, string DataHead, string DataTail);
