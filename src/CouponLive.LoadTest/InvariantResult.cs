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
    public bool Passed => Violations.Count == 0;
}
