using System.Globalization;

namespace CouponLive.Campaigns;

/// <summary>A campaign's version as an entity tag ("3"), and If-Match checked against it (RFC 9110 13.1.1, strong comparison).</summary>
public static class ETags
{
    public static string Of(int version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    /// <summary>True when no If-Match was given, for "*", or when one of its tags is the version's.</summary>
    public static bool Matches(string? ifMatch, int version)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) return true;
        var tag = Of(version);
        foreach (var part in ifMatch.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "*" || part == tag) return true;
        }
        return false;
    }
}
