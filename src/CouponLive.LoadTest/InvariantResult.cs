using CouponLive.Storage;

namespace CouponLive.LoadTest;

/// <summary>The database's view after the run, and the crowd's answers held against it.</summary>
public sealed record InvariantResult(
    bool Checked,
    string Source,
    InvariantReport? Store,
    IReadOnlyList<string> Violations,
    int AnsweredUsers,
    int MatchedAnswers,
    int MismatchedAnswers,
    int RowsWithoutAnswer)
{
    /// <summary>The outbox held against the stored coupons (I9), when a store was given.</summary>
    public EventCheck? Events { get; init; }

    /// <summary>The RabbitMQ queue a downstream consumer reads, held against the stored coupons, when one was given.</summary>
    public QueueCheck? Queue { get; init; }

    public bool Passed => Violations.Count == 0;
}
