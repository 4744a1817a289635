using CouponLive.Codes;

namespace CouponLive.Storage;

/// <summary>What the database holds for one campaign, and which invariants (docs/architecture.md) it breaks.</summary>
public sealed record InvariantReport(
    long CampaignId,
    int TotalQuantity,
    int IssuedCounter,
    int Rows,
    int DistinctUsers,
    int DistinctCodes,
    int MalformedCodes,
    int RowsOutsideTheirWindow,
    int WindowsOverQuota,
    int WindowCounterMismatches)
{
    public IReadOnlyList<string> Violations()
    {
        var v = new List<string>();
        if (Rows > TotalQuantity || IssuedCounter > TotalQuantity) v.Add($"I1 over-issue: {Rows} rows, counter {IssuedCounter}, quantity {TotalQuantity}");
        if (IssuedCounter != Rows) v.Add($"I1 counter {IssuedCounter} differs from {Rows} rows");
        if (WindowsOverQuota > 0) v.Add($"I1 {WindowsOverQuota} windows over their quota");
        if (WindowCounterMismatches > 0) v.Add($"I1 {WindowCounterMismatches} window counters differ from their rows");
        if (DistinctUsers != Rows) v.Add($"I2 {Rows - DistinctUsers} users hold more than one coupon");
        if (DistinctCodes != Rows) v.Add($"I3 {Rows - DistinctCodes} duplicate codes");
        if (MalformedCodes > 0) v.Add($"I3 {MalformedCodes} codes are not {CouponCodeCodec.Length} valid characters");
        if (RowsOutsideTheirWindow > 0) v.Add($"I4 {RowsOutsideTheirWindow} coupons issued outside their window");
        return v;
    }

    /// <summary>I6: with enough distinct demand, the campaign issued exactly its quantity.</summary>
    public bool SoldExactly => Rows == TotalQuantity && IssuedCounter == TotalQuantity;

    public override string ToString() =>
        $"campaign {CampaignId}: {Rows}/{TotalQuantity} rows, counter {IssuedCounter}, {DistinctUsers} users, {DistinctCodes} codes; " +
        (Violations() is { Count: > 0 } v ? "VIOLATIONS: " + string.Join("; ", v) : "I1-I4 hold");
}
