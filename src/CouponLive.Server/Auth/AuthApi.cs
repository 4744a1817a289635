using CouponLive.Http;
using CouponLive.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace CouponLive.Auth;

public sealed record SignUpRequest(string? LoginId, string? Password);
public sealed record SignUpResponse(string UserId, string LoginId);
public sealed record TokenRequest(string? LoginId, string? Password);
public sealed record TokenResponse(string AccessToken, string TokenType, DateTimeOffset ExpiresAt);

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Auth");
        api.MapPost("/users", SignUp).AllowAnonymous();
        api.MapPost("/auth/token", IssueToken).AllowAnonymous();
        return app;
    }

    public static async Task<Results<Created<SignUpResponse>, ProblemHttpResult>> SignUp(
        SignUpRequest request, ICouponStore store, IPasswordHasher<UserAccount> hasher, TimeProvider time, CancellationToken ct)
    {
        if (!Credentials.TryNormalizeLoginId(request.LoginId, out var loginId))
            return Problems.Of(400, ErrorCodes.InvalidLoginId, "The login id must be 3-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.", "loginId");
        if (Credentials.PasswordProblem(request.Password, loginId) is { } problem)
            return Problems.Of(400, ErrorCodes.WeakPassword, problem, "password");

        var user = new UserAccount(Guid.CreateVersion7().ToString(), loginId, "", Roles.User, time.GetUtcNow());
        user = user with { PasswordHash = hasher.HashPassword(user, request.Password!) };
        if (!await store.TryCreateUserAsync(user, ct))
            return Problems.Of(409, ErrorCodes.LoginTaken, "This login id is taken.", "loginId");
        return TypedResults.Created((string?)null, new SignUpResponse(user.UserId, user.LoginId));
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> IssueToken(
        TokenRequest request, ICouponStore store, IPasswordHasher<UserAccount> hasher, TokenService tokens, CancellationToken ct)
    {
        UserAccount? user = null;
        if (Credentials.TryNormalizeLoginId(request.LoginId, out var loginId) && !string.IsNullOrEmpty(request.Password))
            user = await store.FindUserByLoginAsync(loginId, ct);

        // Verify against a dummy hash when there is no such user, so timing does not reveal which login ids exist.
        var hash = user?.PasswordHash ?? DummyHash.Value;
        var verdict = hasher.VerifyHashedPassword(user ?? DummyUser, hash, request.Password ?? "");
        if (user is null || verdict == PasswordVerificationResult.Failed)
            return Problems.Of(401, ErrorCodes.InvalidCredentials, "The login id or password is wrong.");
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
            await store.UpdateUserAsync(user with { PasswordHash = hasher.HashPassword(user, request.Password!) }, ct);

        var (token, expiresAt) = tokens.Mint(user.UserId, user.Role);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", expiresAt));
    }

    private static readonly UserAccount DummyUser = new("", "", "", Roles.User, DateTimeOffset.UnixEpoch);
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<UserAccount>().HashPassword(DummyUser, Guid.NewGuid().ToString()));
}
