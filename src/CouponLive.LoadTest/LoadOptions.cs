using System.Globalization;
using System.Net;

namespace CouponLive.LoadTest;

/// <summary>Everything a run needs; parsed from the command line (see <see cref="Usage"/>) or built by tests.</summary>
public sealed class LoadOptions
{
    public Scenario Scenario { get; set; } = Scenario.Stampede;
    public List<Uri> Targets { get; } = [];
    public bool AllowRemote { get; set; }

    // The event: an existing campaign, or one created through the API as admin.
    public long? CampaignId { get; set; }
    public string AdminLogin { get; set; } = "admin";
    public string? AdminPassword { get; set; }
    public int Quantity { get; set; } = 1_000;
    public TimeSpan StartIn { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);
    public string? CampaignName { get; set; }

    // The crowd: minted tokens (HS256 with the service's key) or a token file.
    public string? SigningKey { get; set; }

    /// <summary>tokens: an RSA private key (PEM file) to mint RS256 tokens, as an identity provider would, instead of HS256.</summary>
    public string? Rs256KeyFile { get; set; }
    public string? TokenFile { get; set; }
    public int Users { get; set; } = 10_000;
    public string? UserPrefix { get; set; }
    public string Issuer { get; set; } = "couponlive";
    public string Audience { get; set; } = "couponlive";
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(2);
    public double RetryShare { get; set; } = 0.1;

    // Load shape and bounds.
    public int Connections { get; set; } = 64;
    public double Rate { get; set; } = 1_000;
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(60);
    public long MaxRequests { get; set; } = 2_000_000;
    public int MaxInFlight { get; set; } = 10_000;
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public bool Warmup { get; set; } = true;

    // Invariant check and output.
    public string? Postgres { get; set; }
    public string? MySql { get; set; }
    public string? Sqlite { get; set; }

    /// <summary>After the check, wait until the outbox has nothing pending and hold the campaign's events in it against the rows.</summary>
    public bool CheckEvents { get; set; }

    /// <summary>After the check, consume this RabbitMQ queue (bound to the service's exchange) and hold its events against the rows.</summary>
    public string? RabbitMq { get; set; }
    public string? EventsQueue { get; set; }
    public string? OutputDirectory { get; set; }
    public string? OutputFile { get; set; }
    public bool Quiet { get; set; }
    public int Seed { get; set; } = 42;

    public const string Usage = """
        CouponLive load tool: rehearse a flash sale against a running service.

        Usage: dotnet run -c Release --project src/CouponLive.LoadTest -- <command> [options]

        Commands:
          stampede   C connections fire as fast as they can from the instant the window opens
          rate       open model: R requests/s for D seconds, latency from the intended send time
          tokens     write N minted tokens, one a line (for wrk), to --out

        Target and event:
          --url URL[,URL...]       service base URL(s) (default http://127.0.0.1:8080); repeatable
          --allow-remote           allow non-loopback targets (refused by default)
          --campaign ID            use an existing campaign instead of creating one
          --admin-login NAME       admin login for creating the campaign (default admin)
          --admin-password PW      or env COUPONLIVE_ADMIN_PASSWORD, or --admin-password-file FILE
          --quantity N             coupons in the new campaign (default 1000)
          --start-in SECONDS       window opens this long after creation (default 2)
          --window SECONDS         window length (default 600)
          --name NAME              campaign name (default loadtest-<time>)

        Crowd:
          --signing-key KEY        HS256 key (or env COUPONLIVE_SIGNING_KEY) to mint user tokens
          --token-file FILE        read tokens (one a line) instead of minting
          --rs256-key FILE         tokens: sign RS256 with this RSA private key (PEM), as an identity provider (kid "bench")
          --issuer ISS             the tokens' iss (default couponlive)
          --users N                synthetic users (default 10000)
          --user-prefix P          user ids are P-0, P-1, ... (default lt<random>)
          --retry-share F          share of users who click twice: double click or quick retry (default 0.1)

        Load and bounds:
          --connections C          HTTP connections per target (default 64)
          --rate R                 rate scenario: requests per second (default 1000)
          --duration SECONDS       rate scenario: run length (default 10)
          --max-duration SECONDS   hard cap on any run (default 60)
          --max-requests N         request budget (default 2000000)
          --max-in-flight N        rate scenario: most outstanding requests (default 10000)
          --timeout SECONDS        per request (default 10)
          --no-warmup              do not open connections before the window

        Check and report:
          --postgres CONNSTR       read the production database for the invariant check
          --mysql CONNSTR          or a MySQL / MariaDB production database
          --sqlite PATH            or the embedded server's couponlive.db
          --check-events           then wait until the outbox has nothing pending and hold the campaign's issued
                                   events in it against the stored coupons
          --rabbitmq URI --events-queue NAME
                                   consume that queue (bound to the service's exchange) from before the run
                                   starts, as a live consumer does, and report events per coupon, duplicates,
                                   and events without their row
          --out DIR                report.json and report.html go here (default loadtest-results/<time>)
          --quiet                  no progress line

        Exit code: 0 when every check passed, 1 when one failed, 2 for bad usage.
        """;

    /// <summary>Parses a command line; throws <see cref="ArgumentException"/> with a readable message.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0) throw new ArgumentException("No command given.");
        var o = new LoadOptions
        {
            Scenario = args[0] switch
            {
                "stampede" => Scenario.Stampede,
                "rate" => Scenario.Rate,
                "tokens" => Scenario.Tokens,
                _ => throw new ArgumentException($"Unknown command '{args[0]}'."),
            },
        };
        for (var i = 1; i < args.Count; i++)
        {
            var name = args[i];
            string? inline = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (name.StartsWith("--", StringComparison.Ordinal) && eq > 0) (name, inline) = (name[..eq], name[(eq + 1)..]);
            string Value() => inline ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value."));
            switch (name)
            {
                case "--url":
                    foreach (var u in Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        o.Targets.Add(Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : throw new ArgumentException($"Not an http(s) URL: {u}"));
                    break;
                case "--allow-remote": o.AllowRemote = true; break;
                case "--campaign": o.CampaignId = Long(name, Value(), 1); break;
                case "--admin-login": o.AdminLogin = Value(); break;
                case "--admin-password": o.AdminPassword = Value(); break;
                case "--admin-password-file": o.AdminPassword = File.ReadAllText(Value()).Trim(); break;
                case "--quantity": o.Quantity = (int)Long(name, Value(), 1, int.MaxValue); break;
                case "--start-in": o.StartIn = Seconds(name, Value(), 0); break;
                case "--window": o.Window = Seconds(name, Value(), 1); break;
                case "--name": o.CampaignName = Value(); break;
                case "--signing-key": o.SigningKey = Value(); break;
                case "--token-file": o.TokenFile = Value(); break;
                case "--rs256-key": o.Rs256KeyFile = Value(); break;
                case "--issuer": o.Issuer = Value(); break;
                case "--users": o.Users = (int)Long(name, Value(), 1, 50_000_000); break;
                case "--user-prefix": o.UserPrefix = Value(); break;
                case "--retry-share": o.RetryShare = Double(name, Value(), 0, 1); break;
                case "--connections": o.Connections = (int)Long(name, Value(), 1, 10_000); break;
                case "--rate": o.Rate = Double(name, Value(), 0.1, 10_000_000); break;
                case "--duration": o.Duration = Seconds(name, Value(), 0.1); break;
                case "--max-duration": o.MaxDuration = Seconds(name, Value(), 0.1); break;
                case "--max-requests": o.MaxRequests = Long(name, Value(), 1); break;
                case "--max-in-flight": o.MaxInFlight = (int)Long(name, Value(), 1, 1_000_000); break;
                case "--timeout": o.RequestTimeout = Seconds(name, Value(), 0.1); break;
                case "--no-warmup": o.Warmup = false; break;
                case "--postgres": o.Postgres = Value(); break;
                case "--mysql": o.MySql = Value(); break;
                case "--sqlite": o.Sqlite = Value(); break;
                case "--check-events": o.CheckEvents = true; break;
                case "--rabbitmq": o.RabbitMq = Value(); break;
                case "--events-queue": o.EventsQueue = Value(); break;
                case "--out": o.OutputDirectory = o.OutputFile = Value(); break;
                case "--quiet": o.Quiet = true; break;
                case "--seed": o.Seed = (int)Long(name, Value(), 0, int.MaxValue); break;
                default: throw new ArgumentException($"Unknown option '{name}'.");
            }
        }
        o.AdminPassword ??= Environment.GetEnvironmentVariable("COUPONLIVE_ADMIN_PASSWORD") is { Length: > 0 } pw ? pw : null;
        o.SigningKey ??= Environment.GetEnvironmentVariable("COUPONLIVE_SIGNING_KEY") is { Length: > 0 } key ? key : null;
        o.Validate();
        return o;
    }

    /// <summary>Checks the combination of options; the loopback rule lives here so tests and the CLI share it.</summary>
    public void Validate()
    {
        if (Targets.Count == 0) Targets.Add(new Uri("http://127.0.0.1:8080"));
        if (!AllowRemote)
        {
            foreach (var t in Targets)
                if (!IsLoopback(t)) throw new ArgumentException($"{t} is not a loopback address; pass --allow-remote to load a remote service.");
        }
        if (Scenario == Scenario.Tokens)
        {
            if (SigningKey is null && Rs256KeyFile is null) throw new ArgumentException("tokens needs --signing-key (or COUPONLIVE_SIGNING_KEY) or --rs256-key.");
            if (OutputFile is null) throw new ArgumentException("tokens needs --out FILE.");
            return;
        }
        if (SigningKey is null && TokenFile is null)
            throw new ArgumentException("Give --signing-key (or COUPONLIVE_SIGNING_KEY) to mint tokens, or --token-file.");
        if (CampaignId is null && AdminPassword is null)
            throw new ArgumentException("Creating a campaign needs --admin-password (or COUPONLIVE_ADMIN_PASSWORD, --admin-password-file); or pass --campaign ID.");
        if ((Postgres is null ? 0 : 1) + (MySql is null ? 0 : 1) + (Sqlite is null ? 0 : 1) > 1)
            throw new ArgumentException("Give one of --postgres, --mysql or --sqlite.");
        if ((RabbitMq is null) != (EventsQueue is null)) throw new ArgumentException("--rabbitmq and --events-queue go together.");
        if ((RabbitMq is not null || CheckEvents) && Postgres is null && MySql is null && Sqlite is null)
            throw new ArgumentException("--check-events and --rabbitmq need the store too (--postgres, --mysql or --sqlite): the events are held against its rows.");
    }

    public static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static long Long(string name, string v, long min, long max = long.MaxValue) =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n : throw new ArgumentException($"{name} must be an integer in [{min}, {max}], not '{v}'.");

    private static double Double(string name, string v, double min, double max) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= min && d <= max
            ? d : throw new ArgumentException($"{name} must be a number in [{min}, {max}], not '{v}'.");

    private static TimeSpan Seconds(string name, string v, double min) => TimeSpan.FromSeconds(Double(name, v, min, 86_400));
}
