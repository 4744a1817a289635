namespace CouponLive.Storage;

public sealed record UserAccount(string UserId, string LoginId, string PasswordHash, string Role, DateTimeOffset CreatedAt);
