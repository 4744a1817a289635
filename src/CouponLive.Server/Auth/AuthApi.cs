using CouponLive.Http;
using CouponLive.Limits;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CouponLive.Auth;

/// <summary>REST adapter of <see cref="AccountService"/>.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Auth").RequireRateLimiting(LimitsSetup.AuthPolicy);
        api.MapPost("/users", SignUp).AllowAnonymous();
        api.MapPost("/auth/token", IssueToken).AllowAnonymous();
        return app;
    }

    public static async Task<Results<Created<SignUpResponse>, ProblemHttpResult>> SignUp(SignUpRequest request, AccountService accounts, HttpResponse response, CancellationToken ct)
    {
        var (account, failure) = await accounts.SignUpAsync(request, ct);
        return account is null ? Problems.Of(failure!, response) : TypedResults.Created((string?)null, account);
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> IssueToken(TokenRequest request, AccountService accounts, HttpResponse response, CancellationToken ct)
    {
        var (token, failure) = await accounts.IssueTokenAsync(request, ct);
        return token is null ? Problems.Of(failure!, response) : TypedResults.Ok(token);
    }
}
