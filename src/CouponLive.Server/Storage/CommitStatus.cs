namespace CouponLive.Storage;

public enum CommitStatus
{
    /// <summary>This call wrote the row.</summary>
    Inserted,
    /// <summary>The user already held a coupon of the campaign (same or other row); <see cref="CommitOutcome.Coupon"/> is the stored one.</summary>
    Existing,
    /// <summary>The database refused the row (a constraint the gate should have kept): never retried.</summary>
    Rejected,
}
