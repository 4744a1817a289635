namespace CouponLive.LoadTest;

/// <summary>One synthetic user: the id the service will see (the token's sub) and the ready-made header value.</summary>
public sealed record LoadUser(string UserId, string Bearer);
