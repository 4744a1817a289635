namespace CouponLive;

/// <summary>Where the service keeps its files and which mode it runs in, resolved once at start.</summary>
public sealed record ServerSettings(string DataDirectory, string Mode)
{
    public const string EmbeddedMode = "embedded";

    public static ServerSettings Resolve(IConfiguration config)
    {
        var dataDirectory = Path.GetFullPath(config["Storage:DataDirectory"] is { Length: > 0 } d ? d : "data");
        Directory.CreateDirectory(dataDirectory);
        return new ServerSettings(dataDirectory, EmbeddedMode);
    }

    public string DatabasePath => Path.Combine(DataDirectory, "couponlive.db");
}
