using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Issuance;
using CouponLive.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CouponLive.Benchmarks;

/// <summary>
/// Micro-benchmarks of the issue path's CPU parts, with allocations. Not part of the test suite:
///   dotnet run -c Release --project bench/CouponLive.Benchmarks -- --filter '*'
/// </summary>
public static class BenchmarkMain
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkMain).Assembly).Run(args);
}

/// <summary>Coupon code: the keyed bijection and check character, computed on every success answer.</summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly CouponCodeCodec _codec = new("DEVELOPMENT-ONLY benchmark code key"u8);
    private string _code = "";
    private long _sequence;

    [GlobalSetup]
    public void Setup() => _code = _codec.Encode(7, 123_456);

    [Benchmark]
    public string Encode() => _codec.Encode(7, ++_sequence);

    [Benchmark]
    public bool Decode() => _codec.TryDecode(_code, out _, out _);

    [Benchmark]
    public bool CheckCharacter() => CouponCodeCodec.HasValidCheck(_code);
}

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

/// <summary>The in-process gate's decisions on the paths a crowd takes most: sold out, already held, admitted.</summary>
[MemoryDiagnoser]
public class GateBenchmarks
{
    private InProcessAdmissionGate _soldOut = null!, _open = null!;
    private StoredCampaign _soldOutCampaign = null!, _openCampaign = null!;
    private string[] _users = [];
    private int _next;

    [GlobalSetup]
    public async Task Setup()
    {
        var now = DateTimeOffset.UtcNow;
        var window = new CampaignWindow(now.AddHours(-1), now.AddHours(1), null);
        _soldOutCampaign = new StoredCampaign(1, "sold out", 1, [window], null, null, now);
        _openCampaign = new StoredCampaign(2, "open", int.MaxValue, [window], null, null, now);
        _soldOut = new InProcessAdmissionGate(TimeProvider.System);
        _open = new InProcessAdmissionGate(TimeProvider.System);
        await _soldOut.LoadAsync(_soldOutCampaign, new GateSnapshot([new IssuedCoupon(1, "holder", 1, "x", now, 0)], 1), CancellationToken.None);
        await _open.LoadAsync(_openCampaign, new GateSnapshot([], 0), CancellationToken.None);
        _users = Enumerable.Range(0, 1 << 20).Select(i => "user-" + i).ToArray();
    }

    [Benchmark]
    public async Task<AdmissionOutcome> SoldOut() => (await _soldOut.AdmitAsync(_soldOutCampaign, "late-user", CancellationToken.None)).Outcome;

    [Benchmark]
    public async Task<AdmissionOutcome> AlreadyHeld() => (await _soldOut.AdmitAsync(_soldOutCampaign, "holder", CancellationToken.None)).Outcome;

    /// <summary>A fresh user each call (a million distinct, then they repeat as holders).</summary>
    [Benchmark]
    public async Task<AdmissionOutcome> Admit() => (await _open.AdmitAsync(_openCampaign, _users[_next++ & ((1 << 20) - 1)], CancellationToken.None)).Outcome;
}
