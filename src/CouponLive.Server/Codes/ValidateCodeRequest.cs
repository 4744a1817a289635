namespace CouponLive.Codes;

public sealed record ValidateCodeRequest(string? Code);
