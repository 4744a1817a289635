namespace CouponLive.Auth;

public sealed record SignUpRequest(string? LoginId, string? Password);
