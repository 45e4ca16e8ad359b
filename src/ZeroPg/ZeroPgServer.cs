using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroPg.Engine;
using ZeroPg.Hosting;
using ZeroPg.Server;
using ZeroPg.Sessions;

namespace ZeroPg;

/// <summary>
/// A running ZeroPg server: real Postgres 18 (PGlite) behind the Postgres wire protocol.
/// <code>await using var pg = await ZeroPgServer.StartAsync(); var cs = pg.GetConnectionString();</code>
/// </summary>
public sealed partial class ZeroPgServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ZeroPgOptions _options;
    private readonly ILogger _logger;
    private Storage.Backup.BackupService? _backup;
    private Engine.Native.NativeCluster? _native;
    private Storage.DataDirectoryLock? _nativeLock;
    private bool _nativeMode; // --engine postgres: a cluster of its own (_native) or --upstream
    private EngineWatchdog? _watchdog;
    private Storage.Snapshots.DatabaseSnapshots? _snapshots;
    private int _stopped;

    private ZeroPgServer(WebApplication app, ZeroPgOptions options, int port, int? httpPort, string? unixSocketFile)
    {
        _app = app;
        _options = options;
        Port = port;
        HttpPort = httpPort;
        UnixSocketFile = unixSocketFile;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ZeroPgServer>();
    }

    /// <summary>The TCP port clients connect to (the one chosen when the options said 0).</summary>
    public int Port { get; }

    public string Host => _options.Host;

    /// <summary>The port of /healthz, /readyz and /metrics, when <see cref="ZeroPgOptions.HttpPort"/> was set.</summary>
    public int? HttpPort { get; }

    /// <summary>The server's metrics (also published on the "ZeroPg" System.Diagnostics.Metrics meter).</summary>
    public ZeroPgMetrics Metrics => _app.Services.GetRequiredService<ZeroPgMetrics>();

    /// <summary>
    /// The PID of the process the postgres database's engine runs in, if one runs: the shared engine host (which runs every
    /// database's engine: <see cref="EngineHostMode.Shared"/>), a Node.js process of its own, or with --engine postgres the postmaster.
    /// </summary>
    public int? EngineProcessId => _native?.ProcessId ?? _app.Services.GetRequiredService<EngineSupervisor>().EngineProcessId;

    /// <summary>The postgres database's running PGlite engine (tests: which engine it is, killing only it), or null.</summary>
    internal EngineProcess? RunningEngine => _native is null ? _app.Services.GetRequiredService<EngineSupervisor>().Running : null;

    /// <summary>Which engine serves the postgres database now (<see cref="EngineProcess.Id"/>: a new one after every restart); tests.</summary>
    internal long? EngineId => RunningEngine?.Id;

    /// <summary>The state of the continuous backup, when <see cref="ZeroPgOptions.Backup"/> is set.</summary>
    public Storage.Backup.BackupStatus? Backup => _backup?.Status;

    /// <summary>The Unix socket file, when one was asked for.</summary>
    public string? UnixSocketFile { get; }

    /// <summary>The certificate clients should trust, when the server made a self-signed one (<c>--tls self-signed</c>).</summary>
    public string? TlsCertificateFile => Security.ServerTls.SelfSignedCertificateFile(_options);

    /// <summary>postgresql://user@host:port/postgres (the user is <see cref="Security.SecurityOptions.User"/>; the password is left out).</summary>
    public string Url => $"postgresql://{Uri.EscapeDataString(_options.Security.User)}@{UrlHost}:{Port}/{Uri.EscapeDataString(_options.StartDatabase ?? "postgres")}";

    internal SessionServices Services => _app.Services.GetRequiredService<SessionServices>();

    private string UrlHost => Host.Contains(':') ? $"[{Host}]" : Host;

    /// <summary>An Npgsql connection string for this server.</summary>
    public string GetConnectionString() => $"Host={Host};Port={Port};Username=\"{_options.Security.User.Replace("\"", "\"\"")}\";Password=\"{(_options.Security.Password ?? "postgres").Replace("\"", "\"\"")}\";Database=\"{(_options.StartDatabase ?? "postgres").Replace("\"", "\"\"")}\"";

    /// <summary>
    /// Runs a SQL script (one simple Query: several statements run in one implicit transaction unless the script
    /// has its own BEGIN/COMMIT) as a client of this server would, in a session of its own, as the configured user.
    /// Errors are returned, not thrown (as Testcontainers' ExecScriptAsync returns psql's exit code).
    /// </summary>
    public async Task<ScriptResult> ExecScriptAsync(string script, string database = "postgres", CancellationToken cancellationToken = default)
    {
        await using var session = await LoopbackSession.OpenAsync(Host, Port, _options.Security.User, _options.Security.Password, database, cancellationToken);
        try
        {
            return new ScriptResult(await session.QueryAsync(script, cancellationToken), null, null);
        }
        catch (Migrations.MigrationSqlException error)
        {
            return new ScriptResult([], error.SqlState, error.PgMessage);
        }
    }

    /// <summary>
    /// Takes a copy of one database (default: the one <see cref="GetConnectionString"/> names) to bring back with
    /// <see cref="RestoreAsync"/>, e.g. migrated and seeded once, restored before each test. Waits (up to 30 s) for a
    /// client's running statement or open transaction to end. memory:// servers only. See <see cref="ZeroPgSnapshot"/>.
    /// </summary>
    public Task<ZeroPgSnapshot> SnapshotAsync(string? database = null, CancellationToken cancellationToken = default)
        => Snapshots.TakeAsync(database ?? _options.StartDatabase ?? Databases.DatabaseSite.PrimaryName, cancellationToken);

    /// <summary>
    /// Brings the snapshot's database back to what it was when the snapshot was taken, while the server runs; other databases
    /// are untouched. Its clients stay connected, as through an engine restart: idle ones see the restored data on their next
    /// statement (their settings kept, prepared statements prepared again, temp tables gone); a client whose statement is
    /// running or whose transaction is open is terminated with FATAL 57P01, as pg_terminate_backend does.
    /// </summary>
    public Task RestoreAsync(ZeroPgSnapshot snapshot, CancellationToken cancellationToken = default)
        => Snapshots.RestoreAsync(snapshot, cancellationToken);

    private Storage.Snapshots.DatabaseSnapshots Snapshots => LazyInitializer.EnsureInitialized(ref _snapshots, () => new Storage.Snapshots.DatabaseSnapshots(
        _options, _app.Services.GetRequiredService<Databases.DatabaseCatalog>(), _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ZeroPg.Snapshots")));

    public static Task<ZeroPgServer> StartAsync(CancellationToken cancellationToken = default)
        => StartAsync(new ZeroPgOptions(), null, cancellationToken);

    public static Task<ZeroPgServer> StartAsync(Action<ZeroPgOptions> configure, CancellationToken cancellationToken = default)
    {
        var options = new ZeroPgOptions();
        configure(options);
        return StartAsync(options, null, cancellationToken);
    }

    /// <summary>Starts the listeners and the engine; returns once the engine is ready and clients can connect.</summary>
    public static async Task<ZeroPgServer> StartAsync(ZeroPgOptions options, ILoggerFactory? loggerFactory, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var loggers = loggerFactory ?? NullLoggerFactory.Instance;
        var nativeMode = options.Engine == EngineKind.Postgres;
        var native = nativeMode && options.Upstream is null
            ? new Engine.Native.NativeCluster(options, loggers.CreateLogger("ZeroPg.Native"))
            : null;
        var pool = Engine.Pooled.PoolSetup.Create(options, native);
        // Made here rather than by the container, so the engine starts before the web host is built: its start (node, the
        // WebAssembly module, the data directory) is the longest step of a server's start, and nothing the host builds needs it.
        // Factories, so the container still disposes them.
        var metrics = new ZeroPgMetrics();
        var engine = new EngineSupervisor(options, metrics, loggers.CreateLogger<EngineSupervisor>());
        var tls = Security.ServerTls.From(options); // a bad certificate fails the start, not the first client
        // Before the engine opens a backed-up directory, the backup takes its lease and restores it when empty (below). From here
        // on the code that may fail is in the try below, which stops this engine.
        var earlyEngineStart = !nativeMode && options.Backup is null ? Task.Run(() => engine.StartAsync(cancellationToken), CancellationToken.None) : null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineSocketScheduling);
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => metrics);
        builder.Services.AddSingleton(_ => engine);
        builder.Services.AddSingleton<EngineScheduler>();
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddSingleton(new Sessions.Statements.StatementCatalog(options.AutoPrepareMaxStatements));
        builder.Services.AddSingleton(tls);
        builder.Services.AddSingleton<SessionServices>();
        builder.Services.AddSingleton<Databases.DatabaseCatalog>();
        if (native is not null)
            builder.Services.AddSingleton(native);
        if (pool is not null)
        {
            builder.Services.AddSingleton(_ => pool);
            builder.Services.AddSingleton<Engine.Pooled.PooledClients>();
            builder.Services.AddSingleton(new Engine.Pooled.LoginRoleCache(options.PoolLoginRoleCacheAge));
            builder.Services.AddSingleton<PooledConnectionHandler>();
        }
        else if (native is not null)
            builder.Services.AddSingleton<NativeConnectionHandler>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var wireEndpoints = new HashSet<System.Net.EndPoint>(ReferenceEqualityComparer.Instance);
        if (pool?.Target.Loop is { } loop)
        {
            // Registered after Kestrel's socket transport, so asked first: it takes the wire endpoints, the HTTP one stays Kestrel's.
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(
                new Platform.Linux.EpollListenerFactory(loop, endpoint => wireEndpoints.Contains(endpoint)));
        }

        if (options.UnixSocketPath is { Length: > 0 } && options.Port == 0 && !options.DisableTcp)
            options.Port = ListenEndpoints.FreeTcpPort(options.Host); // the socket file name carries the port
        var connectionBudget = DescriptorBudget.Connections();
        string? socketFile = null;
        var wireListeners = new List<ListenOptions>();
        ListenOptions? httpListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = connectionBudget;
            if (!options.DisableTcp)
            {
                foreach (var address in ListenEndpoints.Addresses(options.Host))
                    kestrel.Listen(address, options.Port, listen => { UseWireHandler(listen); wireListeners.Add(listen); });
            }
            if (options.UnixSocketPath is { Length: > 0 } path)
            {
                socketFile = ListenEndpoints.UnixSocketFile(path, options.Port);
                if (File.Exists(socketFile))
                    File.Delete(socketFile); // a socket left by a server that died; binding fails otherwise
                kestrel.ListenUnixSocket(socketFile, UseWireHandler);
            }
            if (options.HttpPort is { } httpPort)
                kestrel.Listen(ListenEndpoints.Addresses(options.HttpHost)[0], httpPort, listen => httpListener = listen);
        });

        void UseWireHandler(ListenOptions listen)
        {
            wireEndpoints.Add(listen.EndPoint);
            if (pool is not null)
                listen.UseConnectionHandler<PooledConnectionHandler>();
            else if (native is null)
                listen.UseConnectionHandler<PgConnectionHandler>();
            else
                listen.UseConnectionHandler<NativeConnectionHandler>();
        }

        var app = builder.Build();
        if (connectionBudget is { } budget)
            Log.DescriptorBudget(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ZeroPgServer>(), DescriptorBudget.SoftLimit() ?? 0, budget, options.MaxConnections);
        var databases = app.Services.GetRequiredService<Databases.DatabaseCatalog>(); // before the first client: it routes them
        var wireListening = false;
        WireMetrics(app.Services);
        Storage.Backup.BackupService? backup = null;
        if (pool is not null)
            WirePoolMetrics(metrics, native, pool, app.Services.GetRequiredService<Engine.Pooled.PooledClients>());
        else if (native is not null)
            WireNativeMetrics(metrics, native, app.Services.GetRequiredService<NativeConnectionHandler>());
        var health = new HealthEndpoints(metrics, () => Volatile.Read(ref wireListening) && (native?.IsReady ?? (nativeMode || engine.IsReady)))
        {
            Dashboard = !nativeMode
                ? new Hosting.Dashboard.DashboardEndpoints(new Hosting.Dashboard.DashboardSource(app.Services.GetRequiredService<SessionRegistry>(), databases, metrics, app.Lifetime.ApplicationStopping))
                : null,
            Problem = () => Volatile.Read(ref backup)?.Status is { IsHealthy: false } status ? $"backup {status.State}: {status.Detail}" : null,
        };
        metrics.BackupStatus = () => Volatile.Read(ref backup)?.Status;
        app.Run(health.HandleAsync);
        Storage.DataDirectoryLock? nativeLock = null;
        try
        {
            if (nativeMode)
            {
                if (!options.IsMemory && native is not null)
                    nativeLock = Storage.DataDirectoryLock.Acquire(Path.GetFullPath(options.DataDirectory));
                await app.StartAsync(cancellationToken);
                Volatile.Write(ref wireListening, true);
                if (native is not null)
                    await native.StartAsync(cancellationToken);
                var nativePort = options.DisableTcp ? options.Port : wireListeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p > 0, options.Port);
                return new ZeroPgServer(app, options, nativePort, httpListener?.IPEndPoint?.Port, socketFile) { _native = native, _nativeLock = nativeLock, _nativeMode = true };
            }
            // Before the engine opens the directory: take the backup's lease, restore an empty directory.
            if (options.Backup is not null)
                Volatile.Write(ref backup, await Storage.Backup.BackupService.PrepareAsync(options, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ZeroPg.Backup"), cancellationToken));
            // Kestrel first, so /healthz and /readyz answer while the engine starts; clients that
            // connect meanwhile wait for the start in progress (EngineSupervisor.GetAsync).
            var engineStart = earlyEngineStart ?? engine.StartAsync(cancellationToken);
            await app.StartAsync(cancellationToken);
            Volatile.Write(ref wireListening, true);
            await engineStart;
            // The cluster's roles, for logins to any database before a client of postgres reads them: from the engine, or as its
            // last clean shutdown left them when nothing can have changed them since (engine-host/start-record.mjs).
            var roles = app.Services.GetRequiredService<SessionServices>().Roles;
            if (engine.StartupInfo?.Roles is { } recordedRoles)
                roles.Replace(recordedRoles.Select(Security.LoginRole.FromRow), engine.Generation);
            else
                await roles.LoadAsync(await engine.GetAsync(), engine.Generation);
            databases.Open();
            if (options.StartDatabase is { } startDatabase && databases.Find(startDatabase) is null)
            {
                var primary = app.Services.GetRequiredService<SessionServices>();
                await databases.RunAsync(new Sql.DatabaseStatement(Sql.DatabaseCommandKind.Create, startDatabase), primary, cancellationToken, keepSpare: false);
                if (options.InitFolders.Count > 0)
                {
                    // As the Postgres image: the init scripts run in POSTGRES_DB, as POSTGRES_USER, when it is made.
                    var wirePort = options.DisableTcp ? options.Port : wireListeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p > 0, options.Port);
                    await using var session = await LoopbackSession.OpenAsync(options.Host, wirePort, options.Security.User, options.Security.Password, startDatabase, cancellationToken);
                    await Migrations.InitScripts.RunAsync(session, [.. options.InitFolders], cancellationToken);
                }
            }
            if (!options.DisableTcp && options.StartWarmUpStatements > 0)
                await WarmUpAsync(options, wireListeners, app.Services.GetRequiredService<SessionRegistry>(), metrics, loggers.CreateLogger<ZeroPgServer>(), cancellationToken);
            backup?.Start(engine, app.Services.GetRequiredService<EngineScheduler>());
        }
        catch
        {
            if (native is not null)
                await native.DisposeAsync();
            nativeLock?.Dispose();
            await engine.DisposeAsync();
            if (backup is not null)
                await backup.AbortAsync();
            await app.DisposeAsync();
            throw;
        }
        var port = options.DisableTcp ? options.Port : wireListeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p > 0, options.Port);
        var watchdog = new EngineWatchdog(app.Services.GetRequiredService<SessionRegistry>(), options.EngineWatchdog, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ZeroPg.Watchdog"));
        watchdog.Start();
        return new ZeroPgServer(app, options, port, httpListener?.IPEndPoint?.Port, socketFile) { _backup = backup, _watchdog = watchdog };
    }

    /// <summary>The start's warm-up (<see cref="StartWarmUp"/>). A failure only costs the first seconds their speed, never the start.</summary>
    private static async Task WarmUpAsync(ZeroPgOptions options, List<ListenOptions> wireListeners, SessionRegistry sessions, ZeroPgMetrics metrics, ILogger logger, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var port = wireListeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p > 0, options.Port);
        try
        {
            // Clients may connect before the ready line and are served meanwhile: one beside the warm-up's own session ends it.
            var result = await StartWarmUp.RunAsync(options.Host, port, options.Security.User, options.Security.Password, options.StartDatabase ?? "postgres",
                options.StartWarmUpStatements, options.StartWarmUpLimit, () => sessions.Count > 1, cancellationToken);
            // Its session ends after the Terminate: gone before the ready line (no row in pg_stat_activity), then the counters,
            // unless a client came meanwhile: its work is counted too, and the warm-up's stays in the counters with it.
            for (var waited = 0; sessions.IsConnected(result.ProcessId) && waited < 2000; waited += 5)
                await Task.Delay(5, cancellationToken);
            if (result.End != WarmUpEnd.Client && sessions.Count == 0)
                metrics.ResetClientCounters();
            Log.WarmedUp(logger, result.Statements, (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                result.End switch { WarmUpEnd.Settled => "settled", WarmUpEnd.Client => "a client", _ => "a limit" }, result.MethodsCompiled);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Log.WarmUpFailed(logger, error.Message);
        }
    }

    private static void WirePoolMetrics(ZeroPgMetrics metrics, Engine.Native.NativeCluster? native, Engine.Pooled.BackendPool pool, Engine.Pooled.PooledClients clients)
    {
        metrics.OpenConnections = () => clients.Count;
        metrics.QueuedBatches = () => pool.Counts().Waiting;
        metrics.EngineRestarts = () => 0;
        metrics.Pool = () => pool.Counts();
        metrics.EngineRssBytes = () => native?.ProcessId is { } pid ? ProcessMemory.ResidentBytes(pid) : null;
    }

    private static void WireNativeMetrics(ZeroPgMetrics metrics, Engine.Native.NativeCluster native, NativeConnectionHandler handler)
    {
        metrics.OpenConnections = () => handler.OpenConnections;
        metrics.QueuedBatches = () => 0;
        metrics.EngineRestarts = () => 0;
        metrics.EngineRssBytes = () => native.ProcessId is { } pid ? ProcessMemory.ResidentBytes(pid) : null;
    }

    private static void WireMetrics(IServiceProvider services)
    {
        var metrics = services.GetRequiredService<ZeroPgMetrics>();
        var registry = services.GetRequiredService<SessionRegistry>();
        var databases = services.GetRequiredService<Databases.DatabaseCatalog>();
        // Summed over the engines running now: each database has its own (postgres's is always there).
        metrics.OpenConnections = () => registry.Count;
        metrics.QueuedBatches = () => databases.Running.Sum(d => d.Scheduler.QueueLength);
        metrics.EngineRestarts = () => databases.Running.Sum(d => d.Engine.Restarts);
        // The spare engine kept for the next CREATE DATABASE counts too: it is memory the server holds.
        metrics.EngineRssBytes = () => databases.Running.Select(d => d.Engine.EngineProcessId).Append(databases.Spare?.Engine.ProcessId)
            .Distinct() // the engines of the shared engine host are one process: counted once
            .Select(pid => pid is { } id ? ProcessMemory.ResidentBytes(id) : null)
            .Aggregate((long?)null, (total, rss) => rss is null ? total : (total ?? 0) + rss);
        metrics.DatabaseEngines = () => EngineInventory.Databases(databases);
        metrics.SpareEngine = () => EngineInventory.Spare(databases);
        var slots = new Replication.Slots.SlotMetrics();
        metrics.ReplicationSlots = cancellationToken => slots.ReadAsync(databases.Running, cancellationToken);
        metrics.LastReplicationSlots = () => slots.Last;
        metrics.RefreshIdleReplicationSlots = cancellationToken => slots.ReadAsync(databases.Running, cancellationToken, idleOnly: true);
    }

    /// <summary>
    /// Stops like Postgres's smart-then-fast shutdown: no new connections, open sessions get FATAL 57P01
    /// and their transactions are rolled back, the engine CHECKPOINTs and closes.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
            return;
        if (_watchdog is not null)
            await _watchdog.DisposeAsync();
        var services = Services;
        if (_nativeMode)
        {
            // The native server ends its sessions itself (fast shutdown: FATAL 57P01, transactions rolled back, a checkpoint).
            // An upstream's pooled backends close with the server's container (BackendPool), their clients' connections with Kestrel.
            if (_native is not null)
                await _native.DisposeAsync();
            await _app.StopAsync(cancellationToken);
            _nativeLock?.Dispose();
            if (UnixSocketFile is not null && File.Exists(UnixSocketFile))
                File.Delete(UnixSocketFile);
            return;
        }
        if (Volatile.Read(ref _snapshots) is { } snapshots)
            await snapshots.DisposeAsync();
        foreach (var session in services.Registry.Sessions)
            session.RequestShutdown();
        // Fast shutdown, within SIGTERM's 10 s whatever the engines are doing: the statements running in them are cancelled (again
        // and again: a pipeline goes on with its next statement), sessions get 2 s to end, then the engines they are still busy in
        // are killed; the checkpoint gets 2 s (a data directory stopped without it recovers at its next start, as after a crash),
        // each engine 2 s to close before it is killed.
        var catalog = _app.Services.GetRequiredService<Databases.DatabaseCatalog>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (services.Registry.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var database in catalog.Running.Append(services))
                database.Engine.StopFast();
            await Task.Delay(50, CancellationToken.None);
        }
        foreach (var database in catalog.Running.Append(services))
        {
            database.Engine.StopFast();
            if (services.Registry.Count > 0)
                database.Engine.KillForStop(); // sessions still busy in an engine (a pipeline of thousands of statements): Postgres's fast shutdown ends them too
        }
        foreach (var session in services.Registry.Sessions)
            session.AbortForShutdown();
        await _app.StopAsync(cancellationToken);
        await _app.Services.GetRequiredService<Databases.DatabaseCatalog>().DisposeAsync();
        if (_backup is not null)
            await _backup.StopBaseBackupsAsync();
        try
        {
            var engine = await services.Engine.GetAsync();
            if (!_options.IsMemory)
                await OwnSql.RunAsync(engine, TimeSpan.FromSeconds(2), "CHECKPOINT");
        }
        catch (EngineFailedException error)
        {
            Log.CheckpointFailed(_logger, error.Message);
        }
        await services.Engine.DisposeAsync();
        // After the engine closed: its last WAL (the shutdown checkpoint) is written; ship it all.
        if (_backup is not null)
            await _backup.StopAsync(TimeSpan.FromSeconds(30));
        if (UnixSocketFile is not null && File.Exists(UnixSocketFile))
            File.Delete(UnixSocketFile);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "CHECKPOINT at shutdown failed: {Message}")]
        public static partial void CheckpointFailed(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "descriptor limit {Limit}: at most {Budget} connections at once (startups included); more are closed at accept (--max-connections {MaxConnections})")]
        public static partial void DescriptorBudget(ILogger logger, long limit, long budget, int maxConnections);

        [LoggerMessage(Level = LogLevel.Information, Message = "warmed up: {Statements} statements in {Milliseconds} ms before the ready line (--warm-up), ended by {Reason}, {Methods} methods JIT-compiled meanwhile")]
        public static partial void WarmedUp(ILogger logger, int statements, long milliseconds, string reason, long methods);

        [LoggerMessage(Level = LogLevel.Warning, Message = "the start's warm-up failed, the first statements run unoptimized code: {Message}")]
        public static partial void WarmUpFailed(ILogger logger, string message);
    }
}
