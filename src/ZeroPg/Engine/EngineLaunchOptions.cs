namespace ZeroPg.Engine;

/// <summary>What one engine host process is started with.</summary>
internal sealed record EngineLaunchOptions
{
    public required string NodePath { get; init; }
    public required string HostScriptPath { get; init; }
    /// <summary>"memory://" or a data directory path.</summary>
    public required string DataDirectory { get; init; }
    /// <summary>The database of the cluster the engine opens (PGlite's <c>database</c> option); null is postgres.</summary>
    public string? Database { get; init; }
    public IReadOnlyList<string> Extensions { get; init; } = [];
    /// <summary>
    /// The server's roles query, for the primary database on disk: the host keeps its rows in the start record at a clean
    /// shutdown and returns them to the next start that may reuse them (<see cref="EngineStartupInfo.Roles"/>).
    /// </summary>
    public string? RolesSql { get; init; }
    /// <summary>A tar snapshot of an initialised data directory to start from, if any.</summary>
    public string? LoadDataDir { get; init; }
    /// <summary>Postgres start parameters added to PGlite's own (e.g. "-c", "archive_mode=on").</summary>
    public IReadOnlyList<string> StartParams { get; init; } = [];
    /// <summary>Where the host writes a tar of the data directory right after it started (a fresh one).</summary>
    public string? SnapshotOut { get; init; }
    public EngineDurability Durability { get; init; }
    /// <summary>The engine's WebAssembly memory at most, in MB (<see cref="ZeroPgOptions.EngineMemoryLimitMb"/>).</summary>
    public int MemoryLimitMb { get; init; } = ZeroPgOptions.DefaultEngineMemoryLimitMb;
    /// <summary>How long the host polls for the next request before blocking.</summary>
    public TimeSpan PollWindow { get; init; }
    /// <summary>How long the server polls for a reply before blocking.</summary>
    public TimeSpan ReplyPollWindow { get; init; }
    /// <summary>Environment variables added to the host's (tests only).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>The CPUs the engine's host process runs on once the engine has started (<see cref="ZeroPgOptions.EngineHostCpus"/>); null: the server's.</summary>
    public IReadOnlyList<int>? HostCpus { get; init; }
    /// <summary>Run as a worker of a shared engine host with these settings (<see cref="EngineHostMode.Shared"/>); null: a process of its own.</summary>
    public Pool.SharedHostSettings? SharedHost { get; init; }
    /// <summary>Counts batches and bytes sent to the engine.</summary>
    public Hosting.ZeroPgMetrics? Metrics { get; init; }
}
