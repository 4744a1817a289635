namespace CouponLive.LoadTest;

/// <summary>The CLI: parses the command line and runs <see cref="LoadRunner"/>. Exit 0 pass, 1 a check failed, 2 bad usage.</summary>
public static class EntryPoint
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(LoadOptions.Usage);
            return args.Length == 0 ? 2 : 0;
        }
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException)
        {
            Console.Error.WriteLine($"error: {ex.Message}\nRun with --help for the options.");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        try
        {
            if (options.Scenario == Scenario.Tokens)
            {
                var prefix = options.UserPrefix ?? "wrk" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString("x", System.Globalization.CultureInfo.InvariantCulture);
                var minted = options.Rs256KeyFile is { } pem
                    ? Tokens.MintRs256(File.ReadAllText(pem), prefix, options.Users, options.Issuer, options.Audience, options.TokenLifetime)
                    : Tokens.Mint(options.SigningKey!, prefix, options.Users, options.Issuer, options.Audience, options.TokenLifetime);
                Tokens.Write(options.OutputFile!, minted);
                Console.WriteLine($"wrote {options.Users:N0} tokens for users {prefix}-0..{options.Users - 1} to {options.OutputFile}");
                return 0;
            }
            var result = await LoadRunner.RunAsync(options, Console.Out, cancel.Token);
            return result.Passed ? 0 : 1;
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException or OperationCanceledException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 1;
        }
    }
}
