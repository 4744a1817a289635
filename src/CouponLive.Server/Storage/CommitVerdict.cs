namespace CouponLive.Storage;

/// <summary>What a commit's outcome means for the admission that asked for it (see <see cref="CommitOutcome.VerdictFor"/>).</summary>
public enum CommitVerdict
{
    /// <summary>The admission's own row is stored (written now, or by an earlier try of the same admission).</summary>
    Issued,
    /// <summary>The user holds another coupon of the campaign in the store: that one is theirs, and the gate learns it.</summary>
    HeldBefore,
    /// <summary>The store refused the row (a constraint the gate should have kept): the gate is rebuilt from the store.</summary>
    Refused,
}
