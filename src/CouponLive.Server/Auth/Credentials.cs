namespace CouponLive.Auth;

/// <summary>Rules for login ids and passwords, kept in one place so sign-up and the admin bootstrap agree.</summary>
public static class Credentials
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 128;

    private static readonly HashSet<string> CommonPasswords = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "password1", "12345678", "123456789", "1234567890", "qwerty123", "qwertyuiop",
        "iloveyou", "11111111", "00000000", "abcdefgh", "abcd1234", "letmein1", "admin123", "welcome1",
    };

    /// <summary>3-32 chars of a-z, 0-9, '.', '_', '-', starting with a letter or digit; compared case-insensitively.</summary>
    public static bool TryNormalizeLoginId(string? loginId, out string normalized)
    {
        normalized = "";
        if (loginId is null || loginId.Length is < 3 or > 32) return false;
        var lower = loginId.ToLowerInvariant();
        if (!char.IsAsciiLetterOrDigit(lower[0])) return false;
        foreach (var c in lower)
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-')) return false;
        normalized = lower;
        return true;
    }

    /// <summary>Null when acceptable, else why not.</summary>
    public static string? PasswordProblem(string? password, string loginId)
    {
        if (string.IsNullOrEmpty(password)) return "A password is required.";
        if (password.Length is < MinPasswordLength or > MaxPasswordLength)
            return $"The password must be {MinPasswordLength} to {MaxPasswordLength} characters long.";
        if (password.Any(char.IsControl)) return "The password must not contain control characters.";
        if (password.Distinct().Count() < 5) return "The password must use at least 5 different characters.";
        if (password.Contains(loginId, StringComparison.OrdinalIgnoreCase)) return "The password must not contain the login id.";
        if (CommonPasswords.Contains(password)) return "The password is too common.";
        return null;
    }
}
