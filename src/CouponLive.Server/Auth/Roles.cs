namespace CouponLive.Auth;

public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";
    /// <summary>A backend acting for named users (used by the RPC API).</summary>
    public const string Service = "service";
}
