using System.Diagnostics;

namespace CouponLive.Tests.Infrastructure;

/// <summary>Runs a command to its end (bounded in time) and returns its standard output; fails the test if it fails.</summary>
public static class Shell
{
    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        return (await stdout).Trim();
    }

    /// <summary>A script of the repository's scripts/ folder.</summary>
    public static Task<string> ScriptAsync(string name, params string[] args) =>
        RunAsync(Path.Combine(TestServices.RepoRoot(), "scripts", name), args);
}
