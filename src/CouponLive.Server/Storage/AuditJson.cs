using System.Text.Json;
using CouponLive.Http;

namespace CouponLive.Storage;

/// <summary>An audit entry's changes as the stores keep them: one JSON array per entry (source-generated).</summary>
public static class AuditJson
{
    public static string Write(IReadOnlyList<AuditChange> changes) => JsonSerializer.Serialize(changes, AppJsonContext.Default.IReadOnlyListAuditChange);

    public static IReadOnlyList<AuditChange> Read(string json) => JsonSerializer.Deserialize(json, AppJsonContext.Default.IReadOnlyListAuditChange) ?? [];
}
