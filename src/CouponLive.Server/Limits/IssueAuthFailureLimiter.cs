using System.Net;
using System.Net.Sockets;
using CouponLive.Diagnostics;
using CouponLive.Issuance;
using CouponLive.Rpc;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace CouponLive.Limits;

/// <summary>
/// Issue requests failing authentication (no token, a forged, expired or otherwise invalid one), per client address:
/// a token bucket per address that only those failures drain (<see cref="UserRateLimiter"/>'s, which keeps nothing for
/// an address at rest). Once an address has no whole try left, its issue requests are refused (429) before any
/// signature is checked, unless their token is in the validated-token cache: people with valid tokens behind the same
/// NAT keep issuing, and their own requests never count. IPv6 addresses count by their /64, which one host may roam.
/// </summary>
public sealed class IssueAuthFailureLimiter(IOptions<RateLimitOptions> options, CouponMetrics metrics, TimeProvider time) : IDisposable
{
    /// <summary>The <c>limit</c> label of its refusals in couponlive_rate_limited_total.</summary>
    public const string LimitName = "issue_auth_failures_per_address";

    private const string IssueCouponPath = ConnectEndpoints.ServicePath + "/IssueCoupon";

    private readonly UserRateLimiter? _failures = options.Value.Enabled
        ? new UserRateLimiter(options.Value.IssueAuthFailuresPerAddressBurst, options.Value.IssueAuthFailuresPerAddressPerSecond, time)
        : null;

    /// <summary>
    /// JwtBearer's first event, after the validated-token cache missed: an issue request from an address with no try
    /// left fails here, so its token is never parsed or verified.
    /// </summary>
    public void RefuseIfBlocked(MessageReceivedContext context)
    {
        if (_failures is null || context.Result is not null || !IsIssueRequest(context.HttpContext)) return;
        if (!_failures.HasPermit(AddressKey(context.HttpContext.Connection.RemoteIpAddress), out var retryAfter))
            context.Fail(new IssueAuthRateLimitedException(retryAfter));
    }

    /// <summary>
    /// Called once for each issue request answered as unauthenticated (REST's challenge, the RPC's refusal): charges
    /// the address, unless the refusal was this limit's own, which is counted instead. True for the limit's refusal.
    /// </summary>
    public bool Refused(HttpContext http, Exception? failure)
    {
        if (failure is IssueAuthRateLimitedException)
        {
            metrics.RateLimited.Add(1, CouponMetrics.Tag("limit", LimitName));
            return true;
        }
        _failures?.TryAcquire(AddressKey(http.Connection.RemoteIpAddress), out _);
        return false;
    }

    /// <summary>REST's issue route, or IssueCoupon over gRPC or Connect (routing ignores case, so this does too).</summary>
    public static bool IsIssueRequest(HttpContext http) =>
        http.GetEndpoint()?.Metadata.GetMetadata<IssueEndpoint>() is not null
        || string.Equals(http.Request.Path.Value, IssueCouponPath, StringComparison.OrdinalIgnoreCase);

    /// <summary>The bucket of an address: IPv4 (also mapped into IPv6) as it is, IPv6 by its /64 network.</summary>
    public static string AddressKey(IPAddress? address)
    {
        if (address is null) return "";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => _failures?.Dispose();
}
