using CouponLive.Rpc.V1;
using Grpc.Core;

namespace CouponLive.Rpc;

/// <summary>
/// The gRPC service's methods as Grpc.AspNetCore binds them: virtual methods of the type named in
/// <see cref="CouponServiceBinding.BindService"/>, overridden by <see cref="CouponGrpcService"/>.
/// </summary>
[BindServiceMethod(typeof(CouponServiceBinding), nameof(CouponServiceBinding.BindService))]
public abstract class CouponServiceBase
{
    public virtual Task<CreateCampaignResponse> CreateCampaign(CreateCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<GetCampaignResponse> GetCampaign(GetCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<IssueCouponResponse> IssueCoupon(IssueCouponRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<UpdateCampaignResponse> UpdateCampaign(UpdateCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<PauseCampaignResponse> PauseCampaign(PauseCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<ResumeCampaignResponse> ResumeCampaign(ResumeCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<CancelCampaignResponse> CancelCampaign(CancelCampaignRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<RedeemCouponResponse> RedeemCoupon(RedeemCouponRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));

    public virtual Task<GetCouponResponse> GetCoupon(GetCouponRequest request, ServerCallContext context) =>
        throw new Grpc.Core.RpcException(new Status(StatusCode.Unimplemented, ""));
}
