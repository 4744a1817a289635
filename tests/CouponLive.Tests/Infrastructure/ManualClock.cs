namespace CouponLive.Tests.Infrastructure;

/// <summary>A clock the test moves by hand. Starts at the real time so tokens and SQLite timestamps stay plausible.</summary>
public sealed class ManualClock : TimeProvider
{
    private long _ticks = DateTimeOffset.UtcNow.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
