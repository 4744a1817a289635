using System.Security.Claims;
using CouponLive.Limits;
using CouponLive.Rpc.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;

namespace CouponLive.Rpc;

/// <summary>
/// gRPC transport (Grpc.AspNetCore: framing, deadlines, compression, message limits) of
/// <see cref="CouponRpcService"/>: authenticates the call with the REST API's bearer scheme and turns
/// refusals into a status with a google.rpc.ErrorInfo detail in grpc-status-details-bin.
/// </summary>
public sealed partial class CouponGrpcService(CouponRpcService rpc, ILogger<CouponGrpcService> logger) : CouponServiceBase
{
    /// <summary>A dependency (the store, Redis) failed under the call: UNAVAILABLE with RetryInfo, on gRPC and Connect alike.</summary>
    internal static RpcStatusException DependencyUnavailable { get; } =
        new(RpcCode.Unavailable, ErrorCodes.ServiceUnavailable, "A service this call needs is briefly unavailable; retry shortly.") { RetryAfter = TimeSpan.FromSeconds(1) };

    public override Task<CreateCampaignResponse> CreateCampaign(CreateCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.CreateCampaignAsync(request, user, context.CancellationToken));

    public override Task<GetCampaignResponse> GetCampaign(GetCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.GetCampaignAsync(request, user, context.CancellationToken));

    public override Task<IssueCouponResponse> IssueCoupon(IssueCouponRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.IssueCouponAsync(request, user, context.CancellationToken), limited => rpc.RecordRejectedToken(request, limited));

    public override Task<UpdateCampaignResponse> UpdateCampaign(UpdateCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.UpdateCampaignAsync(request, user, context.CancellationToken));

    public override Task<PauseCampaignResponse> PauseCampaign(PauseCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.PauseCampaignAsync(request, user, context.CancellationToken));

    public override Task<ResumeCampaignResponse> ResumeCampaign(ResumeCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.ResumeCampaignAsync(request, user, context.CancellationToken));

    public override Task<CancelCampaignResponse> CancelCampaign(CancelCampaignRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.CancelCampaignAsync(request, user, context.CancellationToken));

    public override Task<RedeemCouponResponse> RedeemCoupon(RedeemCouponRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.RedeemCouponAsync(request, user, context.CancellationToken));

    public override Task<GetCouponResponse> GetCoupon(GetCouponRequest request, ServerCallContext context) =>
        CallAsync(context, user => rpc.GetCouponAsync(request, user, context.CancellationToken));

    private async Task<T> CallAsync<T>(ServerCallContext context, Func<ClaimsPrincipal, Task<RpcOutcome<T>>> call, Action<bool>? rejected = null) where T : class
    {
        RpcOutcome<T> outcome;
        try
        {
            var (user, refusal) = await AuthenticateAsync(context.GetHttpContext(), rejected);
            // At the deadline the call ends with DEADLINE_EXCEEDED even while a commit it started goes on
            // (commits are never cancelled, only no longer awaited).
            outcome = refusal ?? await call(user!).WaitAsync(context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested && DependencyOutage.Is(ex))
        {
            // The store or Redis is down: a warning once for this call, and UNAVAILABLE with RetryInfo.
            LogOutage(context.Method, DependencyOutage.Describe(ex));
            outcome = DependencyUnavailable;
        }
        // The one exception of a refusal: Grpc.AspNetCore sends a status only for a thrown RpcException.
        return outcome.Error is { } error ? throw ToGrpc(error) : outcome.Value!;
    }

    /// <summary>
    /// The caller's principal, from the JwtBearer result UseAuthentication already computed (cached per
    /// request), or UNAUTHENTICATED with the REST API's reason (RESOURCE_EXHAUSTED when the address's limit on
    /// such issue calls refused it). An issue call passes <paramref name="rejected"/>: its refusal counts against the
    /// address (<see cref="IssueAuthFailureLimiter"/>), and the callback learns whether it was the limit's.
    /// </summary>
    internal static async Task<RpcOutcome<ClaimsPrincipal>> AuthenticateAsync(HttpContext http, Action<bool>? rejected)
    {
        var auth = await http.AuthenticateAsync();
        if (auth.Succeeded) return auth.Principal;
        rejected?.Invoke(http.RequestServices.GetRequiredService<IssueAuthFailureLimiter>().Refused(http, auth.Failure));
        return RpcStatusException.Unauthenticated(auth);
    }

    private static Grpc.Core.RpcException ToGrpc(RpcStatusException error) =>
        new(new Status((StatusCode)(int)error.Code, error.StatusMessage),
            new Metadata { { "grpc-status-details-bin", RpcWire.StatusDetails(error) } });

    [LoggerMessage(Level = LogLevel.Warning, Message = "gRPC {Method} answered unavailable: a dependency is unavailable ({Cause})")]
    private partial void LogOutage(string method, string cause);
}
