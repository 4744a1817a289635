namespace CouponLive.Auth;

public sealed record SignUpResponse(string UserId, string LoginId);
