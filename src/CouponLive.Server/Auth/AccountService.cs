using CouponLive.Diagnostics;
using CouponLive.Limits;
using CouponLive.Storage;
using Microsoft.AspNetCore.Identity;

namespace CouponLive.Auth;

/// <summary>The built-in identity provider: sign-up and login (tokens), for the embedded mode, demos and the admin.</summary>
public sealed class AccountService(
    ICouponStore store,
    IPasswordHasher<UserAccount> hasher,
    TokenService tokens,
    LoginFailureLimiter failures,
    PasswordCheckLimiter hashing,
    CouponMetrics metrics,
    TimeProvider time)
{
    private static readonly ServiceFailure Busy = new(ErrorCodes.ServiceUnavailable, "", "Too many logins at once; retry shortly.") { RetryAfter = TimeSpan.FromSeconds(1) };

    private static readonly UserAccount DummyUser = new("", "", "", Roles.User, DateTimeOffset.UnixEpoch);
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<UserAccount>().HashPassword(DummyUser, Guid.NewGuid().ToString()));

    public async Task<ServiceResult<SignUpResponse>> SignUpAsync(SignUpRequest request, CancellationToken ct)
    {
        if (!Credentials.TryNormalizeLoginId(request.LoginId, out var loginId))
            return new ServiceFailure(ErrorCodes.InvalidLoginId, "loginId", "The login id must be 3-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (Credentials.PasswordProblem(request.Password, loginId) is { } problem)
            return new ServiceFailure(ErrorCodes.WeakPassword, "password", problem);
        if (Blocked(loginId) is { } blocked) return blocked;

        var user = new UserAccount(Guid.CreateVersion7().ToString(), loginId, "", Roles.User, time.GetUtcNow());
        using (var slot = await hashing.EnterAsync(ct))
        {
            if (slot is null) return Busy;
            user = user with { PasswordHash = hasher.HashPassword(user, request.Password!) };
        }
        if (!await store.TryCreateUserAsync(user, ct))
        {
            // Probing which ids exist through sign-up counts as failures of that id, as wrong passwords do.
            failures.RecordFailure(loginId);
            return new ServiceFailure(ErrorCodes.LoginTaken, "loginId", "This login id is taken.");
        }
        return new SignUpResponse(user.UserId, user.LoginId);
    }

    public async Task<ServiceResult<TokenResponse>> IssueTokenAsync(TokenRequest request, CancellationToken ct)
    {
        UserAccount? user = null;
        var wellFormed = Credentials.TryNormalizeLoginId(request.LoginId, out var loginId);
        if (wellFormed && Blocked(loginId) is { } blocked) return blocked;
        if (wellFormed && !string.IsNullOrEmpty(request.Password))
            user = await store.FindUserByLoginAsync(loginId, ct);

        // Verify against a dummy hash when there is no such user, so timing does not reveal which login ids exist.
        var hash = user?.PasswordHash ?? DummyHash.Value;
        PasswordVerificationResult verdict;
        using (var slot = await hashing.EnterAsync(ct))
        {
            if (slot is null) return Busy;
            verdict = hasher.VerifyHashedPassword(user ?? DummyUser, hash, request.Password ?? "");
        }
        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            if (wellFormed) failures.RecordFailure(loginId);
            return new ServiceFailure(ErrorCodes.InvalidCredentials, "", "The login id or password is wrong.");
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
            await store.UpdateUserAsync(user with { PasswordHash = hasher.HashPassword(user, request.Password!) }, ct);

        var (token, expiresAt) = tokens.Mint(user.UserId, user.Role);
        return new TokenResponse(token, "Bearer", expiresAt);
    }

    /// <summary>A refusal when the login id has had too many failures lately (429 auth.rate_limited with Retry-After).</summary>
    private ServiceFailure? Blocked(string loginId)
    {
        if (!failures.IsBlocked(loginId, out var retryAfter)) return null;
        metrics.RateLimited.Add(1, CouponMetrics.Tag("limit", "login_failures_per_id"));
        return new ServiceFailure(ErrorCodes.AuthRateLimited, "loginId", "Too many failed attempts for this login id; retry later.") { RetryAfter = retryAfter };
    }
}
