namespace CouponLive.Rpc;

/// <summary>
/// A method's answer: its response message, or the status to answer with. Expected refusals (sold out,
/// not found...) are returned, not thrown, so the late crowd costs no exception on Connect and one
/// (Grpc.AspNetCore's way to send a status) on gRPC.
/// </summary>
public readonly record struct RpcOutcome<T>(T? Value, RpcStatusException? Error) where T : class
{
    public static implicit operator RpcOutcome<T>(T value) => new(value, null);

    public static implicit operator RpcOutcome<T>(RpcStatusException error) => new(null, error);
}
