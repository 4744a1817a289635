using System.Globalization;

namespace CouponLive.Issuance;

/// <summary>
/// Where a coupon was issued: in one of its campaign's windows (by index), or by a bulk grant (by number), which
/// belongs to no window. The gate's scripts, its holder values and the outbox carry it as one integer
/// (<see cref="Encoded"/>): the window's index, or minus the grant's number.
/// </summary>
public readonly record struct CouponSource
{
    private readonly int _encoded;

    private CouponSource(int encoded) => _encoded = encoded;

    public static CouponSource Window(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new CouponSource(index);
    }

    public static CouponSource Grant(int grantNo)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(grantNo);
        return new CouponSource(-grantNo);
    }

    /// <summary>From the one-integer form (<see cref="Encoded"/>).</summary>
    public static CouponSource Decode(int encoded) => new(encoded);

    /// <summary>From a store's two columns: exactly one of them is set.</summary>
    public static CouponSource Of(int? windowIndex, int? grantNo) =>
        windowIndex is { } w ? Window(w) : Grant(grantNo ?? throw new ArgumentException("A coupon has a window or a grant."));

    public bool IsGrant => _encoded < 0;

    /// <summary>The window's index; null for a grant.</summary>
    public int? WindowIndex => _encoded >= 0 ? _encoded : null;

    /// <summary>The grant's number; null for a window.</summary>
    public int? GrantNo => _encoded < 0 ? -_encoded : null;

    /// <summary>The window's index, or minus the grant's number.</summary>
    public int Encoded => _encoded;

    public override string ToString() =>
        IsGrant ? string.Create(CultureInfo.InvariantCulture, $"grant {-_encoded}") : string.Create(CultureInfo.InvariantCulture, $"window {_encoded}");
}
