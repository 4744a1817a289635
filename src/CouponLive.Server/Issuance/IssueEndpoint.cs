namespace CouponLive.Issuance;

/// <summary>Marks the issue endpoint, so requests refused before it runs (auth) still count in the campaign's live view.</summary>
public sealed class IssueEndpoint
{
    public static readonly IssueEndpoint Instance = new();
}
