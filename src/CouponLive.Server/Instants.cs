using System.Globalization;

namespace CouponLive;

/// <summary>An instant as every answer writes it in text (UTC, whole milliseconds, RFC 3339), e.g. in error details and audit entries.</summary>
public static class Instants
{
    public static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
