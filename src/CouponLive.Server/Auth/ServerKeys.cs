using System.Security.Cryptography;
using System.Text;

namespace CouponLive.Auth;

/// <summary>
/// The secrets the service needs: the token signing key and the coupon code key. Taken from
/// configuration; in embedded development use, generated once and kept in the data folder.
/// In the Production environment they must be configured and must not be development keys.
/// </summary>
public sealed record ServerKeys(byte[] SigningKey, byte[] CodeKey)
{
    /// <summary>Keys containing this marker are development defaults (scripts, tests) and are refused in Production.</summary>
    public const string DevelopmentMarker = "DEVELOPMENT-ONLY";

    public const int MinSigningKeyBytes = 32;
    public const int MinCodeKeyBytes = 16;

    /// <summary>The keys of the host being built, resolved once and registered for injection.</summary>
    public static ServerKeys Of(WebApplicationBuilder builder)
    {
        if (builder.Host.Properties.TryGetValue(typeof(ServerKeys), out var known)) return (ServerKeys)known;
        var keys = Resolve(builder.Configuration, builder.Environment, ServerSettings.Of(builder));
        builder.Host.Properties[typeof(ServerKeys)] = keys;
        builder.Services.AddSingleton(keys);
        return keys;
    }

    /// <summary>
    /// Keys may be generated only for one development process: in the Production environment, and in
    /// production mode where many processes must share them, they must be configured.
    /// </summary>
    public static ServerKeys Resolve(IConfiguration config, IHostEnvironment env, ServerSettings settings) => new(
        Resolve(config, env, settings, "Auth:SigningKey", "signing-key", MinSigningKeyBytes),
        Resolve(config, env, settings, "Codes:Key", "code-key", MinCodeKeyBytes));

    private static byte[] Resolve(IConfiguration config, IHostEnvironment env, ServerSettings settings, string setting, string fileName, int minBytes)
    {
        var configured = config[setting];
        if (string.IsNullOrEmpty(configured))
        {
            if (env.IsProduction())
                throw new InvalidOperationException($"{setting} is not set. In the Production environment it must be configured (a random string of at least {minBytes} bytes).");
            if (settings.IsProduction)
                throw new InvalidOperationException($"{setting} is not set. In production mode every process must share it: configure it (a random string of at least {minBytes} bytes).");
            configured = ReadOrCreateKeyFile(Path.Combine(settings.DataDirectory, fileName));
        }
        else if (env.IsProduction() && configured.Contains(DevelopmentMarker, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{setting} is a development key; refusing to start in the Production environment.");
        }

        var bytes = Encoding.UTF8.GetBytes(configured);
        if (bytes.Length < minBytes)
            throw new InvalidOperationException($"{setting} must be at least {minBytes} bytes of UTF-8.");
        return bytes;
    }

    private static string ReadOrCreateKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
            try
            {
                // CreateNew: when two processes start on one data folder, one key wins and both read it.
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                stream.Write(Encoding.UTF8.GetBytes(key));
            }
            catch (IOException) when (File.Exists(path))
            {
            }
        }
        return File.ReadAllText(path).Trim();
    }
}
