namespace CouponLive.Storage;

/// <summary>
/// What a rebuilt admission gate starts from: the committed coupons, and the first sequence number it may hand out.
/// Every rebuild reserves its own numbers in the store (the campaign's high-water mark, <c>sequence_reserved</c>), so
/// a number handed out before a rebuild is never handed out again, even while its commit is still in flight.
/// </summary>
public sealed record GateSnapshot(IReadOnlyList<IssuedCoupon> Coupons, long NextSequence)
{
    /// <summary>
    /// The snapshot of a rebuild and the campaign's new high-water mark: numbers start above both the mark and every
    /// stored sequence, and the gate can admit at most the remaining stock before a change raises the quantity (which
    /// raises the mark by as much, in its own transaction).
    /// </summary>
    public static (GateSnapshot Snapshot, long Reserved) Reserve(IReadOnlyList<IssuedCoupon> coupons, long reservedBefore, int totalQuantity)
    {
        var highest = reservedBefore;
        foreach (var c in coupons) highest = Math.Max(highest, c.Sequence);
        var reserved = highest + Math.Max(totalQuantity - coupons.Count, 0);
        // Codes pack the sequence into 32 bits: a campaign rebuilt so often that its numbers run out cannot issue more.
        if (reserved > uint.MaxValue)
            throw new InvalidOperationException($"The campaign's sequence numbers are used up ({reserved} > {uint.MaxValue}).");
        return (new GateSnapshot(coupons, highest + 1), reserved);
    }
}
