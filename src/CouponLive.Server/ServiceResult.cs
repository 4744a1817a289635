namespace CouponLive;

/// <summary>An application service's answer: a value, or the reason it was refused.</summary>
public readonly record struct ServiceResult<T>(T? Value, ServiceFailure? Failure) where T : class
{
    public static implicit operator ServiceResult<T>(T value) => new(value, null);

    public static implicit operator ServiceResult<T>(ServiceFailure failure) => new(null, failure);
}
