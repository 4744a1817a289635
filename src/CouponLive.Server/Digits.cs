namespace CouponLive;

/// <summary>
/// Numbers in routes and query strings: ASCII digits and nothing else. long.TryParse with
/// NumberStyles.None still accepts trailing NUL characters ("10%00" read as 10).
/// </summary>
public static class Digits
{
    /// <summary>1 to 18 ASCII digits (so any value fits a long).</summary>
    public static bool TryParse(string? text, out long value)
    {
        value = 0;
        if (text is null || text.Length is 0 or > 18) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = (value * 10) + (c - '0');
        }
        return true;
    }
}
