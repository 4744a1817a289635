using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using CouponLive.Http;

namespace CouponLive.Campaigns;

/// <summary>
/// Reads a merge-patch body into a <see cref="CampaignPatch"/>: an object of known fields only (a misspelt field
/// is refused, not silently ignored), each of the type the campaign has. Never throws.
/// </summary>
public static class CampaignPatchReader
{
    public static bool TryRead(JsonElement body, [NotNullWhen(true)] out CampaignPatch? patch, [NotNullWhen(false)] out ServiceFailure? failure)
    {
        patch = null;
        failure = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            failure = new ServiceFailure(ErrorCodes.BadRequest, "", "The body must be a JSON object (a merge patch of the campaign).");
            return false;
        }
        Patched<string> name = default, validUntil = default;
        Patched<long?> total = default;
        Patched<IReadOnlyList<WindowRequest?>> windows = default;
        Patched<BenefitRequest> benefit = default;
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            var field = property.Name;
            try
            {
                if (Is(field, "name")) name = new Patched<string>(true, value.ValueKind == JsonValueKind.String ? value.GetString() : Invalid<string>(field, "a string"));
                else if (Is(field, "totalQuantity")) total = new Patched<long?>(true, value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : Invalid<long?>(field, "an integer"));
                else if (Is(field, "windows")) windows = new Patched<IReadOnlyList<WindowRequest?>>(true, value.ValueKind == JsonValueKind.Array
                    ? value.Deserialize(AppJsonContext.Default.IReadOnlyListWindowRequest)
                    : Invalid<IReadOnlyList<WindowRequest?>>(field, "an array of windows"));
                else if (Is(field, "couponValidUntil")) validUntil = new Patched<string>(true, value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.String => value.GetString(),
                    _ => Invalid<string>(field, "a timestamp or null"),
                });
                else if (Is(field, "benefit")) benefit = new Patched<BenefitRequest>(true, value.ValueKind switch
                {
                    JsonValueKind.Null => null,
                    JsonValueKind.Object => value.Deserialize(AppJsonContext.Default.BenefitRequest),
                    _ => Invalid<BenefitRequest>(field, "an object or null"),
                });
                else
                {
                    failure = new ServiceFailure(ErrorCodes.BadRequest, field, $"'{field}' is not a field of a campaign that can be changed.");
                    return false;
                }
            }
            catch (JsonException ex)
            {
                failure = new ServiceFailure(ErrorCodes.BadRequest, field, ex is InvalidFieldException ? ex.Message : $"{field} has a value of the wrong type.");
                return false;
            }
        }
        patch = new CampaignPatch(name, total, windows, validUntil, benefit);
        return true;
    }

    private static bool Is(string given, string field) => string.Equals(given, field, StringComparison.OrdinalIgnoreCase);

    private static T Invalid<T>(string field, string expected) => throw new InvalidFieldException($"{field} must be {expected}.");

    private sealed class InvalidFieldException(string message) : JsonException(message);
}
