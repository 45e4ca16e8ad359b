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
    private bool _stopping;
    private int _restarts;
    private EngineLauncher? _launcher;
    private IReadOnlyList<string> _launcherExtensions = [];
    private ExtensionLoader? _extensions;
    private IReadOnlyList<Migrations.MigrationFolder> _migrations = [];
    private string? _script;
    private DataDirectoryLock? _lock;

    private readonly Hosting.ZeroPgMetrics _metrics;

    public EngineSupervisor(ZeroPgOptions options, Hosting.ZeroPgMetrics metrics, ILogger<EngineSupervisor> logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _current = Task.FromException<EngineProcess>(new InvalidOperationException("the engine has not been started"));
    }

    public EngineStartupInfo? StartupInfo { get; private set; }

    /// <summary>Increases every time a new engine process takes over; engine-side session state does not survive it.</summary>
    public int Generation { get; private set; }

    public int Restarts => Volatile.Read(ref _restarts);

    public bool IsReady => _current.IsCompletedSuccessfully && !_current.Result.IsFailed;

    /// <summary>The PID of the running engine host, or null while none runs.</summary>
    public int? EngineProcessId => _current.IsCompletedSuccessfully ? _current.Result.ProcessId : null;

    /// <summary>
    /// Checks the extensions, locks an on-disk directory and starts the engine. Until the returned task
    /// completes, <see cref="GetAsync"/> hands out the start in progress, so early clients wait for it.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var script = _script = EngineHostLocator.Locate(_options.EngineHostDirectory);
        _migrations = [.. _options.MigrationFolders.Select(Migrations.MigrationFolder.Open)];
        NodeRuntime.Resolve(_options.NodePath); // one clear line now rather than a failed start later
        IReadOnlyList<string> extensions = StartupMigrations.ResolveExtensions(_options, script, _logger);
        ExtensionCatalog.Validate(extensions, script);
        string? directory = null;
        if (!_options.IsMemory)
        {
            directory = Path.GetFullPath(_options.DataDirectory);
            _lock = DataDirectoryLock.Acquire(directory);
            try
            {
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
    /// Stops the query running in the engine by killing it (the only interrupt PGlite has); the engine
    /// restarts with crash recovery. Only for data directories: memory:// would lose everything.
    /// </summary>
    public bool TryCancelRunningQuery(bool onlyIfSoleCall = false)
    {
        if (_options.IsMemory || !_current.IsCompletedSuccessfully)
            return false;
        var engine = _current.Result;
        if (!engine.HasCallsInFlight || engine.IsFailed || (onlyIfSoleCall && engine.CallsInFlight != 1))
            return false;
        Log.KillingToCancel(_logger, engine.ProcessId);
        _ = engine.KillToCancelAsync();
        return true;
    }

    private void ReleaseLock()
    {
        _lock?.Dispose();
        _lock = null;
    }

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
            _launcher = new EngineLauncher(_options, _script!, ExtensionCatalog.StartModules(_script!, extensions), _metrics, _logger);
            _launcherExtensions = extensions;
        }
        var engine = Started(await _launcher.LaunchAsync(cancellationToken), extensions);
        await _extensions.AnnounceAsync(engine);
        if (_migrations.Count > 0)
        {
            try
            {
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

    private EngineProcess Started((EngineProcess Engine, EngineStartupInfo Info) started, IReadOnlyList<string> extensions)
    {
        var (engine, info) = started;
        _extensions!.Started(engine, extensions);
        StartupInfo = info;
        Generation++;
        Log.EngineStarted(_logger, engine.ProcessId, info.StartMilliseconds, info.ServerVersion);
        _ = WatchAsync(engine);
        return engine;
    }

    private async Task WatchAsync(EngineProcess engine)
    {
        await engine.Exited;
        lock (_gate)
        {
            if (_stopping || !ReferenceEquals(_current.IsCompletedSuccessfully ? _current.Result : null, engine))
                return;
            Interlocked.Increment(ref _restarts);
            Log.EngineDied(_logger, engine.Diagnostics(), _options.IsMemory);
            _current = LaunchAsync(CancellationToken.None);
        }
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
        [LoggerMessage(Level = LogLevel.Information, Message = "engine started: pid {Pid}, ready in {Milliseconds} ms, PostgreSQL {Version}")]
        public static partial void EngineStarted(ILogger logger, int pid, int milliseconds, string version);

        [LoggerMessage(Level = LogLevel.Warning, Message = "killing engine pid {Pid} to cancel a running query; it restarts with crash recovery")]
        public static partial void KillingToCancel(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Error, Message = "engine died ({Diagnostics}); restarting it (in-memory data lost: {IsMemory})")]
        public static partial void EngineDied(ILogger logger, string diagnostics, bool isMemory);
    }
}
