namespace CouponLive.Events;

/// <summary>
/// How far a publish went: the first <see cref="Done"/> events are confirmed or <see cref="Parked"/> (refused for
/// good); <see cref="Failure"/>, when set, is why the rest was not (they stay pending).
/// </summary>
public sealed record PublishResult(int Done, IReadOnlyList<ParkedEvent> Parked, Exception? Failure = null);
