using System.Collections.Concurrent;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// Which calls of the real store, campaign edit and gate (wrapped by <see cref="FaultProxy{T}"/>) a test makes fail,
/// hold back or watch. A call is named "Interface.Method", e.g. "ICampaignEdit.WriteAsync" or "IAdmissionGate.ChangeAsync".
/// A rule is armed for a number of calls; <see cref="When.Before"/> runs before the real call (it never happens),
/// <see cref="When.After"/> once the real call has completed (it happened; the caller sees what the rule does).
/// </summary>
public sealed class FaultPlan
{
    public enum When { Before, After }

    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly List<Rule> _rules = [];

    /// <summary>How many times the call ran (through the wrapper).</summary>
    public int Calls(string call) => _calls.GetValueOrDefault(call);

    /// <summary>Arms <paramref name="action"/> for the next <paramref name="times"/> calls of <paramref name="call"/> (those <paramref name="match"/> accepts).</summary>
    public void Arm(string call, When when, Func<Task> action, int times = 1, Func<object?[], bool>? match = null)
    {
        lock (_rules) _rules.Add(new Rule(call, when, action, match) { Left = times });
    }

    /// <summary>Makes the next call fail with <paramref name="error"/> (a store-like transient failure by default).</summary>
    public void Fail(string call, When when, Exception? error = null, int times = 1) =>
        Arm(call, when, () => Task.FromException(error ?? Injected(call)), times);

    /// <summary>Holds each call back for <paramref name="delay"/> before it runs, while armed.</summary>
    public void Delay(string call, TimeSpan delay, int times = int.MaxValue) => Arm(call, When.Before, () => Task.Delay(delay), times);

    public void Disarm()
    {
        lock (_rules) _rules.Clear();
    }

    /// <summary>A failure a driver reports when its server is unreachable (transient, nothing done).</summary>
    public static Exception Injected(string call) => new Npgsql.NpgsqlException($"injected failure of {call}", new TimeoutException());

    internal Func<Task>? Take(string call, When when, object?[] args)
    {
        if (when == When.Before) _calls.AddOrUpdate(call, 1, static (_, n) => n + 1);
        lock (_rules)
        {
            var rule = _rules.FirstOrDefault(r => r.Call == call && r.When == when && r.Left > 0 && (r.Match is null || r.Match(args)));
            if (rule is null) return null;
            rule.Left--;
            return rule.Action;
        }
    }

    private sealed record Rule(string Call, When When, Func<Task> Action, Func<object?[], bool>? Match)
    {
        public int Left { get; set; }
    }
}
