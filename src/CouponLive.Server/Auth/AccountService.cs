using CouponLive.Storage;
using Microsoft.AspNetCore.Identity;

namespace CouponLive.Auth;

/// <summary>The built-in identity provider: sign-up and login (tokens), for the embedded mode, demos and the admin.</summary>
public sealed class AccountService(ICouponStore store, IPasswordHasher<UserAccount> hasher, TokenService tokens, TimeProvider time)
{
    private static readonly UserAccount DummyUser = new("", "", "", Roles.User, DateTimeOffset.UnixEpoch);
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<UserAccount>().HashPassword(DummyUser, Guid.NewGuid().ToString()));

    public async Task<ServiceResult<SignUpResponse>> SignUpAsync(SignUpRequest request, CancellationToken ct)
    {
        if (!Credentials.TryNormalizeLoginId(request.LoginId, out var loginId))
            return new ServiceFailure(ErrorCodes.InvalidLoginId, "loginId", "The login id must be 3-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (Credentials.PasswordProblem(request.Password, loginId) is { } problem)
            return new ServiceFailure(ErrorCodes.WeakPassword, "password", problem);

        var user = new UserAccount(Guid.CreateVersion7().ToString(), loginId, "", Roles.User, time.GetUtcNow());
        user = user with { PasswordHash = hasher.HashPassword(user, request.Password!) };
        if (!await store.TryCreateUserAsync(user, ct))
            return new ServiceFailure(ErrorCodes.LoginTaken, "loginId", "This login id is taken.");
        return new SignUpResponse(user.UserId, user.LoginId);
    }

    public async Task<ServiceResult<TokenResponse>> IssueTokenAsync(TokenRequest request, CancellationToken ct)
    {
        UserAccount? user = null;
        if (Credentials.TryNormalizeLoginId(request.LoginId, out var loginId) && !string.IsNullOrEmpty(request.Password))
            user = await store.FindUserByLoginAsync(loginId, ct);

        // Verify against a dummy hash when there is no such user, so timing does not reveal which login ids exist.
        var hash = user?.PasswordHash ?? DummyHash.Value;
        var verdict = hasher.VerifyHashedPassword(user ?? DummyUser, hash, request.Password ?? "");
        if (user is null || verdict == PasswordVerificationResult.Failed)
            return new ServiceFailure(ErrorCodes.InvalidCredentials, "", "The login id or password is wrong.");
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
            await store.UpdateUserAsync(user with { PasswordHash = hasher.HashPassword(user, request.Password!) }, ct);

        var (token, expiresAt) = tokens.Mint(user.UserId, user.Role);
        return new TokenResponse(token, "Bearer", expiresAt);
    }
}
