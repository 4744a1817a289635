namespace CouponLive.Auth;

public sealed record TokenRequest(string? LoginId, string? Password);
