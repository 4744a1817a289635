namespace CouponLive.Campaigns;

/// <summary>A field of a merge patch: absent (<see cref="IsSet"/> false, keep the value) or given, possibly as null.</summary>
public readonly record struct Patched<T>(bool IsSet, T? Value);
