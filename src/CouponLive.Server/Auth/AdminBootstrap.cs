using System.Security.Cryptography;
using CouponLive.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace CouponLive.Auth;

/// <summary>
/// Ensures the admin account from configuration exists. Without a configured password (development
/// only), one is generated at first start, printed once and kept in the data folder beside the keys.
/// </summary>
public sealed partial class AdminBootstrap(
    ICouponStore store,
    IPasswordHasher<UserAccount> hasher,
    IOptions<AdminOptions> options,
    IHostEnvironment env,
    ServerSettings settings,
    TimeProvider time,
    ILogger<AdminBootstrap> logger)
{
    public const string PasswordFileName = "admin-password.txt";

    /// <summary>Where the admin password can be read, for the start-up banner.</summary>
    public string? Hint { get; private set; }

    public async Task EnsureAdminAsync(CancellationToken ct)
    {
        if (!Credentials.TryNormalizeLoginId(options.Value.LoginId, out var loginId))
            throw new InvalidOperationException("Admin:LoginId is not a valid login id.");

        var password = options.Value.Password;
        var passwordFile = Path.Combine(settings.DataDirectory, PasswordFileName);
        var existing = await store.FindUserByLoginAsync(loginId, ct);

        if (string.IsNullOrEmpty(password))
        {
            if (existing is not null)
            {
                Hint = File.Exists(passwordFile) ? $"password in {passwordFile}" : "password as configured earlier";
                return;
            }
            if (env.IsProduction())
            {
                LogNoAdmin(loginId);
                Hint = "no admin account: set Admin:Password";
                return;
            }
            password = RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);
            await File.WriteAllTextAsync(passwordFile, password + Environment.NewLine, ct);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            LogGeneratedPassword(loginId, password, passwordFile);
            Hint = $"password in {passwordFile}";
        }
        else if (Credentials.PasswordProblem(password, loginId) is { } problem)
        {
            throw new InvalidOperationException($"Admin:Password is too weak: {problem}");
        }

        Hint ??= "password from Admin:Password";
        if (existing is null)
        {
            var admin = new UserAccount(Guid.CreateVersion7().ToString(), loginId, "", Roles.Admin, time.GetUtcNow());
            admin = admin with { PasswordHash = hasher.HashPassword(admin, password) };
            if (await store.TryCreateUserAsync(admin, ct)) return;
            existing = await store.FindUserByLoginAsync(loginId, ct); // another process created it first
            if (existing is null) return;
        }
        // Configuration is the source of truth for the admin's password and role.
        if (existing.Role != Roles.Admin || hasher.VerifyHashedPassword(existing, existing.PasswordHash, password) == PasswordVerificationResult.Failed)
            await store.UpdateUserAsync(existing with { Role = Roles.Admin, PasswordHash = hasher.HashPassword(existing, password) }, ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Created admin account '{LoginId}' with generated password: {Password} (also saved in {File})")]
    private partial void LogGeneratedPassword(string loginId, string password, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No admin account '{LoginId}' and no Admin:Password configured: campaigns cannot be created")]
    private partial void LogNoAdmin(string loginId);
}
