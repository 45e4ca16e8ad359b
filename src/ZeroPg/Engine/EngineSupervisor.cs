using Microsoft.Extensions.Logging;
using ZeroPg.Storage;

namespace ZeroPg.Engine;

/// <summary>
/// Owns the engine host process: starts it, hands requests to it, and starts a new one when it dies
/// so that new connections keep working. For an on-disk database it also holds the directory's lock
/// for as long as any engine may run on it.
/// </summary>
internal sealed partial class EngineSupervisor : IAsyncDisposable
{
    private readonly ZeroPgOptions _options;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Task<EngineProcess> _current;
    private TaskCompletionSource _currentChanged = new(TaskCreationOptions.RunContinuationsAsynchronously); // completed (and replaced) when _current is
    private bool _stopping;
    private int _restarts;
    private EngineLauncher? _launcher;
    private IReadOnlyList<string> _launcherExtensions = [];
    private ExtensionLoader? _extensions;
    private IReadOnlyList<Migrations.MigrationFolder> _migrations = [];

    /// <summary>The database is new at this start, so the --init scripts run on the first engine (see <see cref="Migrations.InitScripts"/>).</summary>
    private bool _initPending;
    private string? _script;
    private DataDirectoryLock? _lock;

    private readonly Hosting.ZeroPgMetrics _metrics;

    /// <summary>Replaced only by <see cref="RelocateAsync"/>, while no client uses the engine.</summary>
    private volatile Databases.DatabaseSite _site;

    public EngineSupervisor(ZeroPgOptions options, Hosting.ZeroPgMetrics metrics, ILogger<EngineSupervisor> logger)
        : this(options, metrics, logger, Databases.DatabaseSite.Primary(options))
    {
    }

    public EngineSupervisor(ZeroPgOptions options, Hosting.ZeroPgMetrics metrics, ILogger logger, Databases.DatabaseSite site)
    {
        _options = options;
        _site = site;
        _metrics = metrics;
        _logger = logger;
        _current = Task.FromException<EngineProcess>(new InvalidOperationException("the engine has not been started"));
    }

    public EngineStartupInfo? StartupInfo { get; private set; }

    /// <summary>Increases every time a new engine process takes over; engine-side session state does not survive it.</summary>
    public int Generation { get; private set; }

    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>Generations whose engine a snapshot's restore replaced on purpose (<see cref="TakeOver"/>): its data was replaced, not lost.</summary>
    private readonly HashSet<int> _replaced = [];

    /// <summary>The engine of <paramref name="generation"/> was replaced by a snapshot's restore, rather than dying (or killed).</summary>
    public bool WasReplaced(int generation)
    {
        lock (_gate)
            return _replaced.Contains(generation);
    }

    public bool IsReady => _current.IsCompletedSuccessfully && !_current.Result.IsFailed;

    /// <summary>
    /// Shutdown: cancels the batch running in the engine now, if any (Postgres's fast shutdown ends running statements), so
    /// that the sessions end and the engine closes in time whatever it was doing; the engine is killed if it has not closed
    /// <see cref="FastCloseTimeout"/> after it was told to.
    /// </summary>
    public void StopFast()
    {
        if (!_current.IsCompletedSuccessfully || _current.Result is not { IsFailed: false } engine)
            return;
        engine.CloseTimeout = FastCloseTimeout;
        if (engine.RunningSequence() is > 0 and var sequence)
            engine.CancelInEngine(sequence);
    }

    /// <summary>
    /// Shutdown, when sessions are still busy in the engine after their statements were cancelled: kills the engine without a
    /// restart (memory:// data ends with the server anyway; a data directory recovers at its next start, as after a crash).
    /// </summary>
    public void KillForStop()
    {
        Task<EngineProcess> current;
        lock (_gate)
        {
            _killedForStop = true;
            current = _current;
        }
        if (current.IsCompletedSuccessfully && !current.Result.IsFailed)
            _ = current.Result.KillAsync();
    }

    private volatile bool _killedForStop;

    /// <summary>How long an engine may take to close at shutdown before it is killed (a data directory recovers at its next start).</summary>
    internal static readonly TimeSpan FastCloseTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The memory the running engine holds (<see cref="IEngineChannel.MemoryBytes"/>), or null.</summary>
    public long? EngineMemoryBytes => _current.IsCompletedSuccessfully ? _current.Result.MemoryBytes : null;

    /// <summary>The running engine is a worker of the shared engine host.</summary>
    public bool RunsInSharedHost => _current.IsCompletedSuccessfully && _current.Result.IsSharedHostWorker;

    /// <summary>The running engine, or null while none runs (starting, or restarting after a death).</summary>
    public EngineProcess? Running => _current.IsCompletedSuccessfully ? _current.Result : null;

    /// <summary>The PID of the running engine's process (with the shared engine host: that host's, shared by its engines), or null while none runs.</summary>
    public int? EngineProcessId => _current.IsCompletedSuccessfully ? _current.Result.ProcessId : null;

    /// <summary>The running engine's <see cref="EngineProcess.Id"/> (a new one after every restart), or null while none runs.</summary>
    public long? EngineId => _current.IsCompletedSuccessfully ? _current.Result.Id : null;

    /// <summary>
    /// Checks the extensions, locks an on-disk directory and starts the engine. Until the returned task
    /// completes, <see cref="GetAsync"/> hands out the start in progress, so early clients wait for it.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var script = _script = EngineHostLocator.Locate(_options.EngineHostDirectory);
        // First: the host's own start (Node, the module's compilation) then runs beside the checks and the lock below.
        if (NodeRuntime.Locate(_options.NodePath) is { } node && Pool.SharedHostSettings.For(_options, node, script) is { } shared)
            Pool.SharedEngineHosts.Prestart(shared, _logger);
        NodeRuntime.Resolve(_options.NodePath); // one clear line now rather than a failed start later
        // Read while the engine starts: every new engine is told of the bundled extensions once it is ready, and reading them
        // (37 small .tar.gz files) would otherwise come after the start, before the first client is answered.
        _ = Task.Run(() => ExtensionCatalog.Read(script), CancellationToken.None);
        // Migrations and init scripts are the postgres database's: a database made with CREATE DATABASE gets its schema from its template.
        _migrations = _site.IsPrimary ? [.. _options.MigrationFolders.Select(Migrations.MigrationFolder.Open)] : [];
        // With a start database (POSTGRES_DB, or --user's) the scripts run there instead, once it is made (ZeroPgServer).
        _initPending = _site.IsPrimary && _options.InitFolders.Count > 0 && _options.StartDatabase is null
            && (_options.IsMemory || !File.Exists(Path.Combine(Path.GetFullPath(_options.DataDirectory), "PG_VERSION")));
        IReadOnlyList<string> extensions = [.. StartupMigrations.ResolveExtensions(_options, script, _logger).Union(_site.Extensions, StringComparer.Ordinal)];
        ExtensionCatalog.Validate(extensions, script);
        string? directory = null;
        if (!_site.IsMemory)
        {
            directory = _site.DataDirectory;
            _lock = DataDirectoryLock.Acquire(directory);
            try
            {
                Native.EngineDirectoryKind.EnsureUsableBy(EngineKind.Pglite, directory);
                OrphanEngines.WaitForExit(directory, TimeSpan.FromSeconds(15));
                extensions = DataDirectoryManifest.MergeExtensions(directory, extensions);
                ExtensionCatalog.Validate(extensions, script);
            }
            catch
            {
                ReleaseLock();
                throw;
            }
        }
        _extensions = new ExtensionLoader(script, directory, _logger);
        _extensions.Remember(extensions);
        Task<EngineProcess> start;
        lock (_gate)
            start = _current = LaunchAsync(cancellationToken);
        return start;
    }

    /// <summary>The running engine cancels queries inside itself (see <see cref="EngineProcess.CancelsInEngine"/>).</summary>
    public bool CancelsInEngine
    {
        get
        {
            var current = _current;
            return current is { IsCompletedSuccessfully: true } && current.Result.CancelsInEngine;
        }
    }

    /// <summary>
    /// For an engine host that cannot cancel inside the engine (no cancel listener): stops the query running in
    /// the engine by killing it; the engine restarts with crash recovery and the client gets 57014 as an ERROR.
    /// Only for data directories: memory:// would lose everything for a cancel the engine could not even try.
    /// </summary>
    public bool TryCancelRunningQuery(bool onlyIfSoleCall = false)
    {
        if (_site.IsMemory || !_current.IsCompletedSuccessfully)
            return false;
        var engine = _current.Result;
        var sequence = engine.RunningSequence();
        if (!engine.HasCallsInFlight || engine.IsFailed || (onlyIfSoleCall && engine.CallsInFlight != 1) || sequence <= 0)
            return false;
        engine.KillToCancel(sequence, EngineCancelReason.User, TimeSpan.Zero);
        return true;
    }

    /// <summary>The engine that took over from <paramref name="dead"/> (waits for its start); fails when the server stops instead.</summary>
    public async Task<EngineProcess> GetReplacementAsync(EngineProcess dead)
    {
        await dead.Exited;
        while (true)
        {
            Task<EngineProcess> current;
            Task changed;
            lock (_gate)
            {
                if (_stopping)
                    throw new EngineFailedException("the server is stopping");
                current = _current;
                changed = _currentChanged.Task;
            }
            if (!current.IsCompletedSuccessfully || !ReferenceEquals(current.Result, dead))
                return await current;
            await changed;
        }
    }

    private void ReleaseLock()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>How this supervisor's engines are started (set by the first start; made again for the new site after a relocation,
    /// e.g. a spare engine that became a database, whose snapshot spares start from this launcher).</summary>
    internal EngineLauncher Launcher
    {
        get
        {
            lock (_gate)
            {
                if (_launcher is null && _script is not null)
                    _launcher = NewLauncher(_launcherExtensions);
                return _launcher ?? throw new InvalidOperationException("the engine has not been started");
            }
        }
    }

    /// <summary>The database this engine serves and where it lives.</summary>
    internal Databases.DatabaseSite Site => _site;

    /// <summary>
    /// The running engine becomes database <paramref name="to"/>: renamed inside the engine (<see cref="Databases.DatabaseRename"/>) and, on disk,
    /// its data directory moved under it (the host's 'relocate'; the directory lock's file descriptor stays valid across a rename). Later
    /// starts (a restart after a crash) use the new site. Only while no client uses the engine (a spare claimed by CREATE DATABASE, a
    /// database renamed).
    /// </summary>
    public async Task RelocateAsync(Databases.DatabaseSite to)
    {
        var from = _site;
        var engine = await GetAsync();
        await Databases.DatabaseRename.RunAsync(engine, from.Name, to.Name);
        if (!from.IsMemory && !string.Equals(from.DataDirectory, to.DataDirectory, StringComparison.Ordinal))
        {
            var answer = await engine.ControlAsync(new RelocateControl(to.DataDirectory));
            if (!answer.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
            {
                await Databases.DatabaseRename.RunAsync(engine, to.Name, from.Name);
                throw new EngineFailedException($"moving database \"{from.Name}\" from {from.DataDirectory} to {to.DataDirectory} failed: {answer}");
            }
            _lock?.Moved(to.DataDirectory);
            _extensions?.Moved(to.DataDirectory);
        }
        lock (_gate)
        {
            _site = to;
            _launcher = null; // the next start (after a crash) opens the new site
        }
        Log.Relocated(_logger, from.Name, to.Name, to.DataDirectory);
    }

    private EngineLauncher NewLauncher(IReadOnlyList<string> extensions)
        => new(_options, _site, _script!, ExtensionCatalog.StartModules(_script!, extensions), _metrics, _logger);

    /// <summary>The running engine; waits while a restart is in progress.</summary>
    public Task<EngineProcess> GetAsync()
    {
        lock (_gate)
            return _current;
    }

    /// <summary>Loads the files of extensions that SQL about to run creates or updates into the running engine (no restart).</summary>
    public async Task EnsureExtensionsAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        if (names.Count > 0 && _extensions is { } loader)
            await loader.EnsureLoadedAsync(await GetAsync(), names, cancellationToken);
    }

    /// <summary>The extensions whose files are in the running engine (preloaded at start or loaded since).</summary>
    public IReadOnlyCollection<string> LoadedExtensions => _extensions?.Loaded ?? [];

    private async Task<EngineProcess> LaunchAsync(CancellationToken cancellationToken)
    {
        // Extensions loaded into the previous engine are preloaded into the next one (a restart after a crash).
        var extensions = _extensions!.Remembered;
        if (_launcher is null || !extensions.SequenceEqual(_launcherExtensions))
        {
            _launcher = NewLauncher(extensions);
            _launcherExtensions = extensions;
        }
        var engine = Started(await _launcher.LaunchAsync(cancellationToken), extensions);
        await _extensions.AnnounceAsync(engine);
        if (Security.BootstrapRole.Sql(_options.Security) is { } bootstrap)
            await Sessions.OwnSql.RunAsync(engine, TimeSpan.FromSeconds(30), bootstrap);
        if (_migrations.Count > 0 || _initPending)
        {
            try
            {
                if (_initPending)
                {
                    var session = new EngineMigrationSession(engine, _extensions);
                    await Migrations.InitScripts.RunAsync(session, [.. _options.InitFolders], cancellationToken);
                    await session.ResetAsync(cancellationToken);
                    _initPending = false;
                }
                if (_migrations.Count > 0)
                    await StartupMigrations.ApplyAsync(engine, _extensions, _migrations, _logger, cancellationToken);
            }
            catch
            {
                await engine.DisposeAsync(); // the start fails; nobody else will close this engine
                throw;
            }
        }
        return engine;
    }

    /// <summary>Readies an engine started elsewhere to serve this database (before <see cref="TakeOver"/>, while clients still use the old one).</summary>
    public Task PrepareTakeOverAsync(EngineProcess engine) => _extensions!.AnnounceAsync(engine);

    /// <summary>
    /// Hands this database to <paramref name="engine"/>, started elsewhere from a dump of its cluster (a snapshot's restore) and
    /// prepared (<see cref="PrepareTakeOverAsync"/>); the engine it replaces closes in the background. The caller holds the
    /// database's scheduler, so no client's unit runs in either engine; idle sessions see the new generation on their next
    /// grant, as after a restart (<see cref="Sessions.EngineRestart"/>).
    /// </summary>
    public void TakeOver(EngineProcess engine, EngineStartupInfo info, IReadOnlyList<string> preloaded)
    {
        engine.Metrics = _metrics;
        Task<EngineProcess> previous;
        lock (_gate)
        {
            if (_stopping)
                throw new EngineFailedException("the server is stopping");
            previous = _current;
            _replaced.Add(Generation);
            _current = Task.FromResult(Started((engine, info), preloaded));
            SignalCurrentChanged();
        }
        _ = CloseReplacedAsync(previous);
    }

    private static async Task CloseReplacedAsync(Task<EngineProcess> replaced)
    {
        try
        {
            await (await replaced).DisposeAsync();
        }
        catch (Exception)
        {
            // The replaced engine had died already: nothing to close.
        }
    }

    /// <summary>The extensions the next engine of this database starts with (those of <see cref="Launcher"/>'s launches).</summary>
    internal IReadOnlyList<string> LauncherExtensions => _launcherExtensions;

    private EngineProcess Started((EngineProcess Engine, EngineStartupInfo Info) started, IReadOnlyList<string> extensions)
    {
        var (engine, info) = started;
        _extensions!.Started(engine, extensions);
        engine.CancelRestartAfter = _options.CancelRestartAfter;
        engine.KillsToCancel = !_site.IsMemory || _options.CancelRestartsMemoryEngine;
        StartupInfo = info;
        Generation++;
        Log.EngineStarted(_logger, _site.Name, engine.ProcessId, info.StartMilliseconds, info.ServerVersion, info.ReusedSummary);
        _ = WatchAsync(engine);
        return engine;
    }

    private async Task WatchAsync(EngineProcess engine)
    {
        await engine.Exited;
        lock (_gate)
        {
            if (_stopping || _killedForStop || !ReferenceEquals(_current.IsCompletedSuccessfully ? _current.Result : null, engine))
                return;
            Interlocked.Increment(ref _restarts);
            Log.EngineDied(_logger, engine.Diagnostics(), _site.IsMemory);
            _current = LaunchAsync(CancellationToken.None);
            SignalCurrentChanged();
        }
    }

    private void SignalCurrentChanged()
    {
        var changed = _currentChanged;
        _currentChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        Task<EngineProcess> current;
        lock (_gate)
        {
            if (_stopping)
                return;
            _stopping = true;
            current = _current;
            SignalCurrentChanged();
        }
        try
        {
            var engine = await current;
            await engine.DisposeAsync();
        }
        catch (Exception)
        {
            // Never started (whatever the reason, reported by the start) or already dead: nothing to close.
        }
        finally
        {
            // Only now no engine can write to the directory any more.
            ReleaseLock();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "engine of database {Database} started: pid {Pid}, ready in {Milliseconds} ms, PostgreSQL {Version}; reused from its last clean shutdown: {Reused}")]
        public static partial void EngineStarted(ILogger logger, string database, int pid, int milliseconds, string version, string reused);

        [LoggerMessage(Level = LogLevel.Information, Message = "engine of database {From} now serves database {To} ({Directory})")]
        public static partial void Relocated(ILogger logger, string from, string to, string directory);

        [LoggerMessage(Level = LogLevel.Error, Message = "engine died ({Diagnostics}); restarting it (in-memory data lost: {IsMemory})")]
        public static partial void EngineDied(ILogger logger, string diagnostics, bool isMemory);
    }
}
