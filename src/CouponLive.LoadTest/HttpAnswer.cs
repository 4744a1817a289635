namespace CouponLive.LoadTest;

/// <summary>The status of an answer and how many body bytes were copied out (the rest is read and dropped).</summary>
public readonly record struct HttpAnswer(int Status, int BodyLength);
