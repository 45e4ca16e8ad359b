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

    /// <summary>The PID of the Node.js engine host process currently running, if any.</summary>
    public int? EngineProcessId => _app.Services.GetRequiredService<EngineSupervisor>().EngineProcessId;

    /// <summary>The state of the continuous backup, when <see cref="ZeroPgOptions.Backup"/> is set.</summary>
    public Storage.Backup.BackupStatus? Backup => _backup?.Status;

    /// <summary>The Unix socket file, when one was asked for.</summary>
    public string? UnixSocketFile { get; }

    /// <summary>postgresql://postgres@host:port/postgres</summary>
    public string Url => $"postgresql://postgres@{UrlHost}:{Port}/postgres";

    internal SessionServices Services => _app.Services.GetRequiredService<SessionServices>();

    private string UrlHost => Host.Contains(':') ? $"[{Host}]" : Host;

    /// <summary>An Npgsql connection string for this server.</summary>
    public string GetConnectionString() => $"Host={Host};Port={Port};Username=postgres;Password=postgres;Database=postgres";

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
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineSocketScheduling);
        builder.Services.AddSingleton(loggerFactory ?? NullLoggerFactory.Instance);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<EngineSupervisor>();
        builder.Services.AddSingleton<EngineScheduler>();
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddSingleton(new Sessions.Statements.StatementCatalog(options.AutoPrepareMaxStatements));
        builder.Services.AddSingleton<SessionServices>();
        builder.Services.AddSingleton<ZeroPgMetrics>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

        if (options.UnixSocketPath is { Length: > 0 } && options.Port == 0 && !options.DisableTcp)
            options.Port = ListenEndpoints.FreeTcpPort(options.Host); // the socket file name carries the port
        string? socketFile = null;
        var wireListeners = new List<ListenOptions>();
        ListenOptions? httpListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (!options.DisableTcp)
            {
                foreach (var address in ListenEndpoints.Addresses(options.Host))
                    kestrel.Listen(address, options.Port, listen => { listen.UseConnectionHandler<PgConnectionHandler>(); wireListeners.Add(listen); });
            }
            if (options.UnixSocketPath is { Length: > 0 } path)
            {
                socketFile = ListenEndpoints.UnixSocketFile(path, options.Port);
                if (File.Exists(socketFile))
                    File.Delete(socketFile); // a socket left by a server that died; binding fails otherwise
                kestrel.ListenUnixSocket(socketFile, listen => listen.UseConnectionHandler<PgConnectionHandler>());
            }
            if (options.HttpPort is { } httpPort)
                kestrel.Listen(ListenEndpoints.Addresses(options.HttpHost)[0], httpPort, listen => httpListener = listen);
        });

        var app = builder.Build();
        var engine = app.Services.GetRequiredService<EngineSupervisor>();
        var wireListening = false;
        var metrics = WireMetrics(app.Services, engine);
        Storage.Backup.BackupService? backup = null;
        var health = new HealthEndpoints(metrics, () => Volatile.Read(ref wireListening) && engine.IsReady)
        {
            Problem = () => Volatile.Read(ref backup)?.Status is { IsHealthy: false } status ? $"backup {status.State}: {status.Detail}" : null,
        };
        metrics.BackupStatus = () => Volatile.Read(ref backup)?.Status;
        app.Run(health.HandleAsync);
        try
        {
            // Before the engine opens the directory: take the backup's lease, restore an empty directory.
            if (options.Backup is not null)
                Volatile.Write(ref backup, await Storage.Backup.BackupService.PrepareAsync(options, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ZeroPg.Backup"), cancellationToken));
            // Kestrel first, so /healthz and /readyz answer while the engine starts; clients that
            // connect meanwhile wait for the start in progress (EngineSupervisor.GetAsync).
            var engineStart = engine.StartAsync(cancellationToken);
            await app.StartAsync(cancellationToken);
            Volatile.Write(ref wireListening, true);
            await engineStart;
            backup?.Start(engine, app.Services.GetRequiredService<EngineScheduler>());
        }
        catch
        {
            await engine.DisposeAsync();
            if (backup is not null)
                await backup.AbortAsync();
            await app.DisposeAsync();
            throw;
        }
        var port = options.DisableTcp ? options.Port : wireListeners.Select(l => l.IPEndPoint?.Port ?? 0).FirstOrDefault(p => p > 0, options.Port);
        return new ZeroPgServer(app, options, port, httpListener?.IPEndPoint?.Port, socketFile) { _backup = backup };
    }

    private static ZeroPgMetrics WireMetrics(IServiceProvider services, EngineSupervisor engine)
    {
        var metrics = services.GetRequiredService<ZeroPgMetrics>();
        var registry = services.GetRequiredService<SessionRegistry>();
        var scheduler = services.GetRequiredService<EngineScheduler>();
        metrics.OpenConnections = () => registry.Count;
        metrics.QueuedBatches = () => scheduler.QueueLength;
        metrics.EngineRestarts = () => engine.Restarts;
        metrics.EngineRssBytes = () => engine.EngineProcessId is { } pid ? ProcessMemory.ResidentBytes(pid) : null;
        return metrics;
    }

    /// <summary>
    /// Stops like Postgres's smart-then-fast shutdown: no new connections, open sessions get FATAL 57P01
    /// and their transactions are rolled back, the engine CHECKPOINTs and closes.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
            return;
        var services = Services;
        foreach (var session in services.Registry.Sessions)
            session.RequestShutdown();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (services.Registry.Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20, CancellationToken.None);
        await _app.StopAsync(cancellationToken);
        try
        {
            var engine = await services.Engine.GetAsync();
            if (!_options.IsMemory)
                await OwnSql.RunAsync(engine, TimeSpan.FromSeconds(30), "CHECKPOINT");
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
    }
}
