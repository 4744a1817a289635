using System.Text;
using BenchmarkDotNet.Attributes;
using CouponLive.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Benchmarks;

/// <summary>Token validation as JwtBearer does it on every request, with the service's parameters.</summary>
[MemoryDiagnoser]
public class TokenBenchmarks : IDisposable
{
    public void Dispose()
    {
        _cache.Dispose();
        GC.SuppressFinalize(this);
    }

    private readonly JsonWebTokenHandler _handler = new();
    private TokenValidationParameters _parameters = null!;
    private string _token = "";

    [GlobalSetup]
    public void Setup()
    {
        var key = Encoding.UTF8.GetBytes("DEVELOPMENT-ONLY benchmark signing key, 32+ bytes");
        _parameters = TokenService.ValidationParameters(new ServerKeys(key, new byte[16]), new AuthOptions());
        _token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "couponlive",
            Audience = "couponlive",
            Expires = DateTime.UtcNow.AddHours(2),
            Claims = new Dictionary<string, object> { ["sub"] = "bench-user-42", ["role"] = "user" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> Validate() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;

    /// <summary>A repeated click: JwtBearer's first event finds the token in <see cref="ValidatedTokenCache"/>.</summary>
    [Benchmark]
    public bool CachedHit()
    {
        var context = new MessageReceivedContext(_http, Scheme, _bearerOptions);
        _cache.OnMessageReceived(context);
        return context.Result!.Succeeded;
    }

    private static readonly AuthenticationScheme Scheme = new(JwtBearerDefaults.AuthenticationScheme, null, typeof(JwtBearerHandler));
    private readonly JwtBearerOptions _bearerOptions = new();
    private readonly ValidatedTokenCache _cache = new(1_000, TimeSpan.FromSeconds(30));
    private readonly DefaultHttpContext _http = new();

    [GlobalSetup(Target = nameof(CachedHit))]
    public async Task SetupCache()
    {
        Setup();
        var result = await _handler.ValidateTokenAsync(_token, _parameters);
        _cache.Remember(new TokenValidatedContext(_http, Scheme, _bearerOptions)
        {
            Principal = new System.Security.Claims.ClaimsPrincipal(result.ClaimsIdentity),
            SecurityToken = (JsonWebToken)result.SecurityToken,
        });
        _http.Request.Headers.Authorization = "Bearer " + _token;
    }
}
