using System.Security.Claims;

namespace CouponLive.Auth;

public static class Principals
{
    public const int MaxUserIdLength = 128;

    /// <summary>The token's subject: the only identity the issue path trusts (it never reads the users table).</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue("sub") ?? throw new InvalidOperationException("Authenticated principal without sub.");

    /// <summary>A usable subject: present, at most 128 chars, no control chars, no broken UTF-16.</summary>
    public static bool IsAcceptableUserId(string? sub)
    {
        if (string.IsNullOrWhiteSpace(sub) || sub.Length > MaxUserIdLength) return false;
        foreach (var rune in sub.EnumerateRunes())
        {
            // Unpaired surrogates enumerate as U+FFFD.
            if (System.Text.Rune.IsControl(rune) || rune == System.Text.Rune.ReplacementChar) return false;
        }
        return true;
    }
}
