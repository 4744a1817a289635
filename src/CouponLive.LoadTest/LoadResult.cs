namespace CouponLive.LoadTest;

/// <summary>The outcome of a run: the report and where it was written.</summary>
public sealed record LoadResult(LoadReport Report, string JsonPath, string HtmlPath)
{
    public bool Passed => Report.Passed;
}
