namespace ZeroPg.Soak;

/// <summary>What one soak run does. The fault and workload periods scale with <see cref="Minutes"/> (see the properties).</summary>
public sealed class SoakOptions
{
    /// <summary>The data directory the server runs on (created; kept after the run, for a look).</summary>
    public required string DataDirectory { get; init; }

    public double Minutes { get; init; } = 60;

    /// <summary>The CLI assembly run as `dotnet ZeroPg.Cli.dll serve` (default: the one beside this assembly).</summary>
    public string CliAssembly { get; init; } = Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll");

    /// <summary>Megabytes of each COPY FROM STDIN (the issue's ~50; CI's 3 minutes use less).</summary>
    public int CopyMegabytes { get; init; } = 50;

    /// <summary>pgbench's -R (transactions per second over its 8 clients); 0: as fast as they go (the hour's). CI's 3 minutes
    /// limit it, so the soak leaves the suite's other tests some of the 2 cores.</summary>
    public int PgbenchRate { get; init; }

    /// <summary>
    /// The test hook: once the server is back after the first fault, one acknowledged ledger row is deleted behind the
    /// ledger's back (as a server that lost that commit would leave it), so the run must report it lost and fail.
    /// </summary>
    public bool InjectLostCommit { get; init; }

    /// <summary>End the run at the first failed check (the injected run needs no more).</summary>
    public bool StopOnFailure { get; init; }

    /// <summary>Progress lines (what happens, when) go here; null for none.</summary>
    public TextWriter? Progress { get; init; } = Console.Error;

    /// <summary>Where the server's stderr goes (default: beside the data directory).</summary>
    public string? ServerLog { get; init; }

    public TimeSpan Duration => TimeSpan.FromMinutes(Minutes);

    /// <summary>Every 5 minutes in a long run; a third of a short one (3 minutes: at 1:00).</summary>
    public TimeSpan EngineKillEvery => TimeSpan.FromMinutes(Math.Min(5, Minutes / 3));

    /// <summary>Every 15 minutes in a long run; two thirds of a short one (3 minutes: at 2:00).</summary>
    public TimeSpan ServerKillEvery => TimeSpan.FromMinutes(Math.Min(15, Minutes * 2 / 3));

    /// <summary>A COPY in and out every minute; in a run under 5 minutes every 40 s.</summary>
    public TimeSpan CopyEvery => TimeSpan.FromSeconds(Minutes >= 5 ? 60 : 40);

    public TimeSpan CreateDropEvery => TimeSpan.FromSeconds(Minutes >= 5 ? 30 : 20);

    /// <summary>The server's --database-idle-timeout: short enough that the idle database is evicted and touched again several times.</summary>
    public TimeSpan DatabaseIdleTimeout => TimeSpan.FromSeconds(Minutes >= 10 ? 60 : 20);

    /// <summary>Resources sampled each minute (a short run: 12 samples).</summary>
    public TimeSpan SampleEvery => TimeSpan.FromSeconds(Math.Min(60, Minutes * 60 / 12));

    /// <summary>Growth is measured from here on (the minute 10; a short run: its second half).</summary>
    public TimeSpan GrowthFrom => Minutes >= 20 ? TimeSpan.FromMinutes(10) : TimeSpan.FromMinutes(Minutes / 2);

    /// <summary>The growth bounds are checked only in runs that long: in 3 minutes a start's warm-up is all one sees.</summary>
    public bool ChecksGrowth => Minutes >= 20;

    /// <summary>What the issue allows outside the seconds after a kill.</summary>
    public TimeSpan WitnessBound { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The seconds after a kill (after a server kill: after the new server is ready) the witness is excused.</summary>
    public TimeSpan FaultGrace { get; init; } = TimeSpan.FromSeconds(10);
}
