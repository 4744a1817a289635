using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CouponLive.Auth;

/// <summary>
/// Remembers tokens JwtBearer has already validated, so a user who clicks again (the crowd after a
/// sell-out clicks many times) is not parsed, verified and turned into claims again. The key is the
/// whole token string, so only a byte-identical copy of a validated token hits; an entry lives until
/// the token's expiry plus the validation's clock skew, the same instant validation would refuse it.
/// The cached principal holds only what the service reads: sub and role.
/// </summary>
public sealed class ValidatedTokenCache : IDisposable
{
    private const string BearerPrefix = "Bearer ";

    private readonly MemoryCache? _cache;
    private readonly TimeSpan _clockSkew;

    public ValidatedTokenCache(int capacity, TimeSpan clockSkew)
    {
        _clockSkew = clockSkew;
        // SizeLimit counts entries (each has size 1); when full, new entries wait for the next compaction.
        if (capacity > 0) _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = capacity });
    }

    /// <summary>JwtBearer's first event: a hit ends authentication there, a miss lets validation run.</summary>
    public Task OnMessageReceived(MessageReceivedContext context)
    {
        if (_cache is null || BearerToken(context.Request) is not { } token) return Task.CompletedTask;
        if (_cache.TryGetValue(token, out ClaimsPrincipal? principal) && principal is not null)
        {
            context.Principal = principal;
            context.Success();
        }
        else
        {
            context.Token = token; // parsed once: JwtBearer takes it from here
        }
        return Task.CompletedTask;
    }

    /// <summary>The token of the request's one Bearer authorization header, or null.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1) return null;
        var value = header[0];
        if (value is null || !value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)) return null;
        return value[BearerPrefix.Length..].Trim();
    }

    /// <summary>True when the token was validated before and has not expired.</summary>
    public bool Contains(string token) => _cache is not null && _cache.TryGetValue(token, out _);

    /// <summary>Called after every check (including the service's own on sub) has passed.</summary>
    public void Remember(TokenValidatedContext context)
    {
        if (_cache is null || context.SecurityToken is not JsonWebToken jwt || context.Principal is null) return;
        var claims = new List<Claim>(2);
        foreach (var claim in context.Principal.Claims)
        {
            if (claim.Type is "sub" or "role") claims.Add(new Claim(claim.Type, claim.Value));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, JwtBearerDefaults.AuthenticationScheme, "sub", "role"));
        // Saturating: a token may expire in the year 9999, and adding the skew must not overflow.
        var validTo = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        var expires = validTo > DateTimeOffset.MaxValue - _clockSkew ? DateTimeOffset.MaxValue : validTo + _clockSkew;
        using var entry = _cache.CreateEntry(jwt.EncodedToken);
        entry.Value = principal;
        entry.Size = 1;
        entry.AbsoluteExpiration = expires;
    }

    public void Dispose() => _cache?.Dispose();
}
