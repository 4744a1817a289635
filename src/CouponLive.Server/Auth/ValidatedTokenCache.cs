using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CouponLive.Auth;

/// <summary>
/// Remembers tokens JwtBearer has already validated, so a user who clicks again (the crowd after a
/// sell-out clicks many times) is not parsed, verified and turned into claims again. The key is the
/// whole token string, so only a byte-identical copy of a validated token hits; an entry holds until
/// the token's expiry plus the validation's clock skew, the same instant validation would refuse it.
/// The cached principal holds only what the service reads: sub and role.
/// Two generations of half the capacity each: when the newer is full it becomes the older and the old
/// older is dropped, and a hit in the older moves the token to the newer. Every step is O(1); MemoryCache
/// with a size limit instead sorted all its entries on each overflow, and a sale's stream of fresh tokens
/// kept it overflowing (stalls of tens of milliseconds in the p99, docs/benchmarks.md).
/// </summary>
public sealed class ValidatedTokenCache(int capacity, TimeSpan clockSkew, TimeProvider? time = null) : IDisposable
{
    private const string BearerPrefix = "Bearer ";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly int _generationSize = capacity <= 0 ? 0 : Math.Max(1, capacity / 2);
    private readonly Lock _swap = new();
    private ConcurrentDictionary<string, Entry> _newer = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Entry> _older = new(StringComparer.Ordinal);
    private int _newerCount;

    private bool Enabled => _generationSize > 0;

    /// <summary>Tokens held now (both generations): at most the capacity, give or take a racing insert.</summary>
    public int Count => _newer.Count + _older.Count;

    /// <summary>JwtBearer's first event: a hit ends authentication there, a miss lets validation run.</summary>
    public Task OnMessageReceived(MessageReceivedContext context)
    {
        if (!Enabled || BearerToken(context.Request) is not { } token) return Task.CompletedTask;
        if (TryGet(token) is { } principal)
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
    public bool Contains(string token) => Enabled && TryGet(token) is not null;

    /// <summary>Called after every check (including the service's own on sub) has passed.</summary>
    public void Remember(TokenValidatedContext context)
    {
        if (!Enabled || context.SecurityToken is not JsonWebToken jwt || context.Principal is null) return;
        var claims = new List<Claim>(2);
        foreach (var claim in context.Principal.Claims)
        {
            if (claim.Type is "sub" or "role") claims.Add(new Claim(claim.Type, claim.Value));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, JwtBearerDefaults.AuthenticationScheme, "sub", "role"));
        // Saturating: a token may expire in the year 9999, and adding the skew must not overflow.
        var validTo = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        var expires = validTo > DateTimeOffset.MaxValue - clockSkew ? DateTimeOffset.MaxValue : validTo + clockSkew;
        Add(jwt.EncodedToken, new Entry(principal, expires));
    }

    private ClaimsPrincipal? TryGet(string token)
    {
        if (!_newer.TryGetValue(token, out var entry))
        {
            if (!_older.TryGetValue(token, out entry)) return null;
            Add(token, entry); // still in use: it moves to the newer generation
        }
        return entry.Expires > _time.GetUtcNow() ? entry.Principal : null;
    }

    private void Add(string token, Entry entry)
    {
        var newer = _newer;
        if (!newer.TryAdd(token, entry)) return;
        if (Interlocked.Increment(ref _newerCount) < _generationSize) return;
        lock (_swap)
        {
            if (!ReferenceEquals(newer, _newer)) return; // another insert swapped already
            _older = newer;
            _newer = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
            Volatile.Write(ref _newerCount, 0);
        }
    }

    public void Dispose()
    {
        _newer.Clear();
        _older.Clear();
    }

    private sealed record Entry(ClaimsPrincipal Principal, DateTimeOffset Expires);
}
