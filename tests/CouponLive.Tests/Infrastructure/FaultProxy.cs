using System.Reflection;
using CouponLive.Storage;

namespace CouponLive.Tests.Infrastructure;

/// <summary>
/// A real service behind an interface (the store, a campaign edit, the gate), with the calls a <see cref="FaultPlan"/>
/// arms failing, held back or watched: the real parts run, and a step of a multi-step operation fails halfway. A
/// campaign edit the store opens is wrapped too.
/// </summary>
public static class FaultProxy
{
    public static T Wrap<T>(T target, FaultPlan plan) where T : class => FaultProxy<T>.Create(target, plan);
}

/// <summary>The proxy of <see cref="FaultProxy"/>.</summary>
public class FaultProxy<T> : DispatchProxy where T : class
{
    private static readonly MethodInfo TaskHook = typeof(FaultProxy<T>).GetMethod(nameof(HookTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ValueTaskHook = typeof(FaultProxy<T>).GetMethod(nameof(HookValueTask), BindingFlags.NonPublic | BindingFlags.Static)!;

    private T _target = null!;
    private FaultPlan _plan = null!;

    internal static T Create(T target, FaultPlan plan)
    {
        var proxy = Create<T, FaultProxy<T>>();
        var self = (FaultProxy<T>)(object)proxy;
        self._target = target;
        self._plan = plan;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        var call = typeof(T).Name + "." + method!.Name;
        args ??= [];
        var before = _plan.Take(call, FaultPlan.When.Before, args);
        var type = method.ReturnType;
        if (type == typeof(Task) || type == typeof(ValueTask) || (type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Task<>) || type.GetGenericTypeDefinition() == typeof(ValueTask<>))))
        {
            Func<object?> run = () => Call(method, args);
            if (type == typeof(Task)) return Hook(before, run, call, args);
            if (type == typeof(ValueTask)) return new ValueTask(Hook(before, run, call, args));
            var result = type.GetGenericArguments()[0];
            return (type.GetGenericTypeDefinition() == typeof(Task<>) ? TaskHook : ValueTaskHook)
                .MakeGenericMethod(result).Invoke(null, [this, before, run, call, args]);
        }
        before?.Invoke().GetAwaiter().GetResult();
        return Call(method, args);
    }

    private object? Call(MethodInfo method, object?[] args)
    {
        try
        {
            return method.Invoke(_target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private async Task Hook(Func<Task>? before, Func<object?> run, string call, object?[] args)
    {
        if (before is not null) await before();
        var task = run();
        if (task is ValueTask vt) await vt;
        else await (Task)task!;
        if (_plan.Take(call, FaultPlan.When.After, args) is { } after) await after();
    }

    private static async Task<TResult> HookTask<TResult>(FaultProxy<T> self, Func<Task>? before, Func<object?> run, string call, object?[] args)
    {
        if (before is not null) await before();
        var result = self.WrapResult(await (Task<TResult>)run()!);
        if (self._plan.Take(call, FaultPlan.When.After, args) is { } after) await after();
        return result;
    }

    private static async ValueTask<TResult> HookValueTask<TResult>(FaultProxy<T> self, Func<Task>? before, Func<object?> run, string call, object?[] args)
    {
        if (before is not null) await before();
        var result = self.WrapResult(await (ValueTask<TResult>)run()!);
        if (self._plan.Take(call, FaultPlan.When.After, args) is { } after) await after();
        return result;
    }

    private TResult WrapResult<TResult>(TResult result) =>
        result is ICampaignEdit edit and not FaultProxy<ICampaignEdit> ? (TResult)(object)FaultProxy.Wrap(edit, _plan) : result;
}
