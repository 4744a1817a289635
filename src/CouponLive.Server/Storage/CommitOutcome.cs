namespace CouponLive.Storage;

/// <summary>The store's answer for one row of a group commit: its status and, unless refused, the user's stored coupon.</summary>
public readonly record struct CommitOutcome(CommitStatus Status, IssuedCoupon? Coupon)
{
    public static readonly CommitOutcome Rejected = new(CommitStatus.Rejected, null);

    /// <summary>
    /// The one reading of an outcome, for the issue path, the grants, the reconciler and the writer alike: the row of
    /// the admission with <paramref name="admittedSequence"/> is stored, another coupon of the user is, or none is.
    /// </summary>
    public CommitVerdict VerdictFor(long admittedSequence) => Status switch
    {
        CommitStatus.Rejected => CommitVerdict.Refused,
        _ when Coupon!.Sequence == admittedSequence => CommitVerdict.Issued,
        _ => CommitVerdict.HeldBefore,
    };
}
