namespace CouponLive;

/// <summary>Stable machine-readable error codes, carried as the <c>code</c> extension of every ProblemDetails.</summary>
public static class ErrorCodes
{
    public const string InvalidJson = "request.invalid_json";
    public const string BodyTooLarge = "request.too_large";
    public const string BadRequest = "request.invalid";
    public const string UnsupportedMediaType = "request.unsupported_media_type";
    public const string UnsupportedCharset = "request.unsupported_charset";
    public const string NotFound = "http.not_found";
    public const string MethodNotAllowed = "http.method_not_allowed";
    public const string Unauthorized = "auth.unauthorized";
    public const string TokenExpired = "auth.token_expired";
    public const string InvalidToken = "auth.invalid_token";
    public const string Forbidden = "auth.forbidden";
    public const string InvalidCredentials = "auth.invalid_credentials";
    public const string AuthRateLimited = "auth.rate_limited";
    public const string IssueRateLimited = "issue.rate_limited";
    public const string AuthFailuresRateLimited = "auth.failures_rate_limited";
    public const string LoginTaken = "user.login_taken";
    public const string InvalidLoginId = "user.invalid_login_id";
    public const string WeakPassword = "user.weak_password";
    public const string CampaignNotFound = "campaign.not_found";
    public const string CampaignNameTaken = "campaign.name_taken";
    public const string NotOpen = "campaign.not_open";
    public const string Ended = "campaign.ended";
    public const string SoldOut = "campaign.sold_out";
    public const string WindowSoldOut = "campaign.window_sold_out";
    public const string CampaignPaused = "campaign.paused";
    public const string CampaignCancelled = "campaign.cancelled";
    public const string QuantityBelowIssued = "campaign.quantity_below_issued";
    public const string CampaignChanged = "campaign.changed";
    public const string NoCurrentWindow = "campaign.no_current_window";
    public const string WindowStarted = "campaign.window_started";
    public const string InvalidPaging = "request.invalid_paging";
    public const string InvalidCode = "coupon.invalid_code";
    public const string CouponNotFound = "coupon.not_found";
    public const string NotHolder = "coupon.not_holder";
    public const string AlreadyRedeemed = "coupon.already_redeemed";
    public const string CouponExpired = "coupon.expired";
    public const string CouponRevoked = "coupon.revoked";
    public const string InvalidOrderId = "coupon.invalid_order_id";
    public const string OrderMismatch = "coupon.order_mismatch";
    public const string InvalidGrantId = "grant.invalid_id";
    public const string InvalidGrantUsers = "grant.invalid_users";
    public const string GrantNotFound = "grant.not_found";
    public const string ServiceUnavailable = "service.unavailable";
    public const string ServerError = "server.error";
}
