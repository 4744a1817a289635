using CouponLive.Rpc.V1;
using Google.Protobuf;
using Grpc.Core;

namespace CouponLive.Rpc;

/// <summary>
/// The gRPC binding of couponlive.v1.CouponService, as Grpc.Tools would generate it but for one thing: a
/// request payload that is not a valid message is refused with INVALID_ARGUMENT. With the generated
/// marshaller the parse error escapes as an unhandled exception (UNKNOWN, logged as a server error).
/// Grpc.AspNetCore finds this class through <see cref="BindServiceMethodAttribute"/> on
/// <see cref="CouponServiceBase"/>, and server reflection reads <see cref="Descriptor"/>.
/// </summary>
public static class CouponServiceBinding
{
    public const string ServiceName = "couponlive.v1.CouponService";

    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => CouponReflection.Descriptor.Services[0];

    private static readonly Method<CreateCampaignRequest, CreateCampaignResponse> CreateCampaign =
        Unary("CreateCampaign", CreateCampaignRequest.Parser, CreateCampaignResponse.Parser);
    private static readonly Method<GetCampaignRequest, GetCampaignResponse> GetCampaign =
        Unary("GetCampaign", GetCampaignRequest.Parser, GetCampaignResponse.Parser);
    private static readonly Method<IssueCouponRequest, IssueCouponResponse> IssueCoupon =
        Unary("IssueCoupon", IssueCouponRequest.Parser, IssueCouponResponse.Parser);
    private static readonly Method<UpdateCampaignRequest, UpdateCampaignResponse> UpdateCampaign =
        Unary("UpdateCampaign", UpdateCampaignRequest.Parser, UpdateCampaignResponse.Parser);
    private static readonly Method<PauseCampaignRequest, PauseCampaignResponse> PauseCampaign =
        Unary("PauseCampaign", PauseCampaignRequest.Parser, PauseCampaignResponse.Parser);
    private static readonly Method<ResumeCampaignRequest, ResumeCampaignResponse> ResumeCampaign =
        Unary("ResumeCampaign", ResumeCampaignRequest.Parser, ResumeCampaignResponse.Parser);
    private static readonly Method<CancelCampaignRequest, CancelCampaignResponse> CancelCampaign =
        Unary("CancelCampaign", CancelCampaignRequest.Parser, CancelCampaignResponse.Parser);
    private static readonly Method<RedeemCouponRequest, RedeemCouponResponse> RedeemCoupon =
        Unary("RedeemCoupon", RedeemCouponRequest.Parser, RedeemCouponResponse.Parser);
    private static readonly Method<GetCouponRequest, GetCouponResponse> GetCoupon =
        Unary("GetCoupon", GetCouponRequest.Parser, GetCouponResponse.Parser);

    /// <summary>Called by Grpc.AspNetCore with a null service: it creates one per call and finds its methods by name.</summary>
    public static void BindService(ServiceBinderBase binder, CouponServiceBase? service)
    {
        binder.AddMethod(CreateCampaign, service is null ? null : service.CreateCampaign);
        binder.AddMethod(GetCampaign, service is null ? null : service.GetCampaign);
        binder.AddMethod(IssueCoupon, service is null ? null : service.IssueCoupon);
        binder.AddMethod(UpdateCampaign, service is null ? null : service.UpdateCampaign);
        binder.AddMethod(PauseCampaign, service is null ? null : service.PauseCampaign);
        binder.AddMethod(ResumeCampaign, service is null ? null : service.ResumeCampaign);
        binder.AddMethod(CancelCampaign, service is null ? null : service.CancelCampaign);
        binder.AddMethod(RedeemCoupon, service is null ? null : service.RedeemCoupon);
        binder.AddMethod(GetCoupon, service is null ? null : service.GetCoupon);
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : IMessage<TRequest>, IBufferMessage where TResponse : IMessage<TResponse>, IBufferMessage =>
        new(MethodType.Unary, ServiceName, name, Marshaller(request), Marshaller(response));

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser) where T : IMessage<T>, IBufferMessage => Marshallers.Create<T>(
        (message, context) =>
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        context =>
        {
            try
            {
                return parser.ParseFrom(context.PayloadAsReadOnlySequence());
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new Grpc.Core.RpcException(new Status(StatusCode.InvalidArgument, ErrorCodes.InvalidJson + ": The request message could not be decoded: " + ex.Message));
            }
        });
}
