using Microsoft.Extensions.Logging;
using ZeroPg.Storage;

namespace ZeroPg.Engine;

/// <summary>
/// Starts engine processes, from the snapshot cache when the data directory is new: memory:// and
/// a directory without PG_VERSION start from a cached initdb'd tar (~1 s) instead of running initdb
/// (4-8 s). A missing snapshot is written by the first fresh start; a snapshot the engine cannot
/// start from is deleted and initdb runs instead. Each such start prunes snapshots of other
/// versions and extension sets that are no longer used.
/// </summary>
internal sealed partial class EngineLauncher(ZeroPgOptions options, Databases.DatabaseSite site, string hostScript, IReadOnlyList<string> extensions, Hosting.ZeroPgMetrics metrics, ILogger logger)
{
    private readonly SnapshotCache? _cache = options.UseSnapshotCache
        ? SnapshotCache.For(options.SnapshotCacheDirectory, hostScript, extensions, [])
        : null;

    private readonly string _node = NodeRuntime.Resolve(options.NodePath);

    public string DataDirectory { get; } = site.DataDirectory;

    public async Task<(EngineProcess Engine, EngineStartupInfo Info)> LaunchAsync(CancellationToken cancellationToken)
    {
        var fresh = site.IsMemory || !File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));
        if (!site.IsPrimary)
        {
            // A database ZeroPg made starts from the cluster prepared for it (its seed: a spare's, or its template's); on disk only the
            // first time. The seed holds it under another name, which it takes once started.
            var launch = Launch(DataDirectory);
            if (fresh)
            {
                launch = launch with
                {
                    LoadDataDir = site.Seed ?? throw new EngineFailedException($"database \"{site.Name}\" has no cluster to start from"),
                    Database = site.SeedDatabase ?? site.Name,
                };
            }
            var (engine, info) = await StartAsync(launch, cancellationToken);
            try
            {
                await Databases.DatabaseRename.RunAsync(engine, launch.Database!, site.Name);
            }
            catch
            {
                await engine.DisposeAsync();
                throw;
            }
            return (engine, info);
        }
        if (!fresh || _cache is null || !_cache.EnsureDirectory())
            return await StartAsync(Launch(DataDirectory), cancellationToken);

        var started = await LaunchFreshAsync(_cache, cancellationToken);
        // After the start, when the snapshot just used or written is on disk as the newest.
        _cache.Prune(logger);
        return started;
    }

    private async Task<(EngineProcess Engine, EngineStartupInfo Info)> LaunchFreshAsync(SnapshotCache cache, CancellationToken cancellationToken)
    {
        if (cache.TryGet() is { } snapshot)
        {
            var fromSnapshot = Launch(DataDirectory) with { LoadDataDir = snapshot };
            if (site.IsMemory && options.KeepWarmEngine)
            {
                var warm = WarmEngine.TryTake(fromSnapshot);
                WarmEngine.Prepare(fromSnapshot, logger, options.EngineStartTimeout);
                if (warm is { } ready)
                    return ready;
            }
            try
            {
                return await StartAsync(fromSnapshot, cancellationToken);
            }
            catch (EngineFailedException error)
            {
                Log.SnapshotFailed(logger, snapshot, error.Message);
                cache.Invalidate();
                if (!site.IsMemory)
                    RemovePartialDataDirectory();
            }
        }

        Log.BuildingSnapshot(logger, cache.FilePath);
        if (site.IsMemory)
        {
            var started = await StartAsync(Launch(DataDirectory) with { SnapshotOut = cache.FilePath }, cancellationToken);
            if (options.KeepWarmEngine && cache.TryGet() is { } written)
                WarmEngine.Prepare(Launch(DataDirectory) with { LoadDataDir = written }, logger, options.EngineStartTimeout);
            return started;
        }

        // A new directory and no snapshot yet: initdb once in memory to fill the cache, then seed from it.
        var (builder, _) = await StartAsync(Launch(ZeroPgOptions.MemoryDatabase) with { SnapshotOut = cache.FilePath }, cancellationToken);
        await builder.DisposeAsync();
        var launch = Launch(DataDirectory);
        if (cache.TryGet() is { } built)
            launch = launch with { LoadDataDir = built };
        return await StartAsync(launch, cancellationToken);
    }

    public IReadOnlyList<string> Extensions => extensions;

    /// <summary>The snapshot cache's file for this launcher's settings (it may not exist yet); null when the cache is off.</summary>
    public string? SnapshotPath => _cache?.FilePath;

    /// <summary>An engine of this database started from <paramref name="tar"/>, a dump of its cluster (a snapshot: ZeroPgServer.RestoreAsync).</summary>
    public EngineLaunchOptions FromTar(string tar) => Launch(DataDirectory) with { LoadDataDir = tar, Metrics = null };

    /// <summary>
    /// A memory:// engine no client uses, opened on <paramref name="database"/>, that prepares another database's cluster
    /// (Databases.DatabaseForge): from <paramref name="source"/> (a cluster's tar), else from the snapshot cache, else initdb (which fills the cache).
    /// </summary>
    public EngineLaunchOptions Preparation(string? source, string database)
    {
        var launch = Launch(ZeroPgOptions.MemoryDatabase) with { Database = database, StartParams = [], Metrics = null };
        if (source is not null)
            return launch with { LoadDataDir = source };
        if (_cache is null || !_cache.EnsureDirectory())
            return launch;
        return _cache.TryGet() is { } snapshot ? launch with { LoadDataDir = snapshot } : launch with { SnapshotOut = _cache.FilePath };
    }

    /// <summary>
    /// memory:// keeps every file Postgres writes in the engine host's RAM. A checkpoint (PGlite's single-user Postgres
    /// takes one only when asked: Storage.MemoryWalCheckpoints) removes the WAL segments before it, but keeps up to
    /// max_wal_size of them renamed for reuse (Postgres's default 1 GB): two 16 MB segments instead. A sort past
    /// maintenance_work_mem (CREATE INDEX) spills to files, given back when it ends, where one within it grows the
    /// WebAssembly heap for good: pgbench -i -s 30's primary key grew it by 83 MB with 64 MB (the default), by 37 MB with
    /// 16 MB, in no more CPU time (engine host peak +619-624 and +546-563 MB over idle). -c overrides them.
    /// </summary>
    private static readonly string[] MemorySettings = ["-c", "min_wal_size=32MB", "-c", "max_wal_size=32MB", "-c", "maintenance_work_mem=16MB"];

    private EngineLaunchOptions Launch(string dataDirectory) => new()
    {
        NodePath = _node,
        HostScriptPath = hostScript,
        DataDirectory = dataDirectory,
        Database = site.IsPrimary ? null : site.Name,
        RolesSql = RecordsRoles(dataDirectory) ? Security.LoginRole.AllSql : null,
        Extensions = extensions,
        StartParams = [
            .. options.Backup is null || !site.IsPrimary || dataDirectory == ZeroPgOptions.MemoryDatabase ? [] : Storage.Backup.BackupService.EngineSettings,
            // Logical replication consumers (zero-cache, Debezium) check wal_level; PGlite runs with it (a little more WAL).
            "-c", "wal_level=logical",
            // ZeroPg's slots keep captured changes until confirmed: a slot further behind than this is invalidated (Postgres's
            // default -1 would let a consumer that went away grow the change log without bound). -c overrides it.
            "-c", $"max_slot_wal_keep_size={ZeroPgOptions.DefaultMaxSlotWalKeepSize}",
            .. dataDirectory == ZeroPgOptions.MemoryDatabase ? MemorySettings : [],
            .. EngineMemorySettings.StartParams(options.EngineMemory),
            .. options.PostgresSettings.SelectMany(s => (string[])["-c", $"{s.Key}={s.Value}"]),
        ],
        Durability = options.Durability,
        MemoryLimitMb = options.EngineMemoryLimitMb,
        PollWindow = options.EnginePollWindow,
        ReplyPollWindow = options.ReplyPollWindow,
        Environment = options.EngineHostEnvironment,
        SharedHost = Pool.SharedHostSettings.For(options, _node, hostScript),
        HostCpus = options.EngineHostCpus,
        Metrics = metrics,
    };

    /// <summary>
    /// Whether the engine's start record keeps the roles for the next start (the server then reads none before its port):
    /// for the primary database on disk (the cluster's roles are its; memory:// keeps no record), and only when nothing the
    /// server runs between an engine's ready frame and its roles read can change them: the bootstrap role's SQL
    /// (POSTGRES_USER, POSTGRES_PASSWORD: a new verifier at every start), migrations and init scripts.
    /// </summary>
    private bool RecordsRoles(string dataDirectory)
        => site.IsPrimary && dataDirectory != ZeroPgOptions.MemoryDatabase && Security.BootstrapRole.Sql(options.Security) is null
            && options.MigrationFolders.Count == 0 && options.InitFolders.Count == 0;

    private async Task<(EngineProcess, EngineStartupInfo)> StartAsync(EngineLaunchOptions launch, CancellationToken cancellationToken)
    {
        using var cores = launch.HostCpus is null ? null : EngineHostCores.ServerStart(); // any CPU for the start (EngineHostCores)
        if (launch.LoadDataDir is { } tar && !string.Equals(launch.DataDirectory, ZeroPgOptions.MemoryDatabase, StringComparison.OrdinalIgnoreCase))
        {
            // Unpacked here, not by the engine (DataDirectoryUnpack): the engine then opens it as it reopens a directory.
            var fsync = launch.Durability == EngineDurability.Fsync;
            await Task.Run(() => DataDirectoryUnpack.Extract(tar, launch.DataDirectory, fsync), cancellationToken);
            launch = launch with { LoadDataDir = null };
        }
        var started = await EngineProcess.StartAsync(launch, logger, options.EngineStartTimeout, cancellationToken);
        if (launch.SnapshotOut is not null)
            Log.SnapshotWritten(logger, launch.SnapshotOut, started.Info.SnapshotWritten);
        return started;
    }

    /// <summary>A load that failed half-way leaves files PGlite would take for a database: keep only ZeroPg's own.</summary>
    private void RemovePartialDataDirectory()
    {
        foreach (var entry in new DirectoryInfo(DataDirectory).EnumerateFileSystemInfos())
        {
            if (entry.Name.StartsWith(".zeropg", StringComparison.Ordinal))
                continue;
            if (entry is DirectoryInfo directory)
                directory.Delete(recursive: true);
            else
                entry.Delete();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "the engine could not start from snapshot {Path}; deleting it and running initdb ({Message})")]
        public static partial void SnapshotFailed(ILogger logger, string path, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "first start with this PGlite build and extension set: running initdb once (several seconds); later starts load the snapshot {Path}")]
        public static partial void BuildingSnapshot(ILogger logger, string path);

        [LoggerMessage(Level = LogLevel.Information, Message = "snapshot cache {Path} written: {Written}")]
        public static partial void SnapshotWritten(ILogger logger, string path, bool written);
    }
}
