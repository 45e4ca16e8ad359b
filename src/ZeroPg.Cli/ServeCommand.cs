using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli;

/// <summary>`zeropg serve`: flags follow pglite-socket's where they overlap.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db", "-D") { Description = "memory:// (default) or a data directory, created when missing [env ZEROPG_DB]", DefaultValueFactory = _ => ServeEnvironment.Database() };
        var port = new Option<int>("--port", "-p") { Description = "TCP port; 0 picks a free one (printed in the ready line) [env ZEROPG_PORT, PGPORT, PORT]", DefaultValueFactory = ServeEnvironment.Port };
        var host = new Option<string>("--host", "-h") { Description = "address to listen on [env ZEROPG_HOST]", DefaultValueFactory = _ => ServeEnvironment.Host() };
        var path = new Option<string?>("--path") { Description = "also listen on this Unix socket (a directory gets .s.PGSQL.<port>)" };
        var maxConnections = new Option<int>("--max-connections") { Description = "client connections allowed at once", DefaultValueFactory = _ => 100 };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Trace, Debug, Information, Warning, Error, Critical or None (logs go to stderr)", DefaultValueFactory = _ => LogLevel.Information };
        var extensions = new Option<string?>("--extensions") { Description = "comma-separated PGlite extensions to preload (pgcrypto,citext,vector,...), or auto: those `zeropg check` finds in the --migrations folders" };
        var queueWaitTimeout = new Option<double>("--queue-wait-timeout") { Description = "seconds a client may wait for the shared engine before its statement fails (0 = forever)" };
        var idleInTransactionTimeout = new Option<double>("--idle-in-transaction-timeout") { Description = "seconds a client may sit idle inside a transaction before it is rolled back and disconnected (0 = off)" };
        var authenticationTimeout = new Option<double>("--authentication-timeout") { Description = "seconds a connection may take to send its startup packet before it is closed (1-600, as Postgres's authentication_timeout)", DefaultValueFactory = _ => 60 };
        var durability = new Option<string>("--durability") { Description = "process-crash (default: commits survive a crash of the engine or server) or fsync (also an OS crash; slower)", DefaultValueFactory = _ => "process-crash" };
        durability.AcceptOnlyFromAmong("process-crash", "fsync");
        var cacheDir = new Option<string?>("--cache-dir") { Description = "where initdb snapshots are cached (default $ZEROPG_CACHE_DIR, $XDG_CACHE_HOME/zeropg or ~/.cache/zeropg)" };
        var noSnapshotCache = new Option<bool>("--no-snapshot-cache") { Description = "always run initdb for a new database" };
        var httpPort = new Option<int?>("--http-port") { Description = "serve /healthz, /readyz and /metrics on this port (0 picks one, printed in the ready line)" };
        var httpHost = new Option<string>("--http-host") { Description = "address of the HTTP endpoint", DefaultValueFactory = _ => "127.0.0.1" };
        var run = new Option<string?>("--run") { Description = "run this shell command with DATABASE_URL and ZEROPG_CONNECTION_STRING set, stop when it exits and exit with its code" };
        var parentPid = new Option<int?>("--parent-pid") { Description = "stop when the process with this pid exits" };
        var enginePoll = new Option<int>("--engine-poll-us") { Description = "microseconds the engine host polls for the next request before it sleeps (0 = sleep at once: less CPU, more latency)", DefaultValueFactory = _ => 1000 };

        var migrations = new Option<string[]>("--migrations") { Description = "apply this folder's pending migrations before the server is ready (Prisma, drizzle-kit, Flyway-style or ordered .sql; repeatable)", AllowMultipleArgumentsPerToken = false };
        var backup = new BackupFlags();
        var noAutoPrepare = new Option<bool>("--no-auto-prepare") { Description = "send repeated simple Queries to the engine as they are, instead of through statements ZeroPg prepares once" };
        var maxMessageSize = new Option<int>("--max-message-size") { Description = "largest protocol message a client may send, in bytes (COPY data is limited by --max-copy-bytes)", DefaultValueFactory = _ => new ZeroPgOptions().MaxMessageSize };
        var maxCopyBytes = new Option<long>("--max-copy-bytes") { Description = "largest COPY FROM STDIN, in bytes (the engine host holds a COPY whole)", DefaultValueFactory = _ => new ZeroPgOptions().MaxCopyInBytes };

        var command = new Command("serve", "Run the server until SIGINT/SIGTERM. Prints one JSON line {\"port\",\"host\",\"url\"} on stdout when ready.")
        {
            db, port, host, path, maxConnections, logLevel, extensions, queueWaitTimeout, idleInTransactionTimeout, authenticationTimeout,
            durability, cacheDir, noSnapshotCache, httpPort, httpHost, run, parentPid, enginePoll, noAutoPrepare,
            migrations,
            maxMessageSize, maxCopyBytes,
        };
        foreach (var option in backup.ServeOptions)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new ZeroPgOptions
            {
                DataDirectory = parse.GetValue(db)!,
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                UnixSocketPath = parse.GetValue(path),
                MaxConnections = parse.GetValue(maxConnections),
                QueueWaitTimeout = TimeSpan.FromSeconds(parse.GetValue(queueWaitTimeout)),
                IdleInTransactionTimeout = TimeSpan.FromSeconds(parse.GetValue(idleInTransactionTimeout)),
                AuthenticationTimeout = TimeSpan.FromSeconds(parse.GetValue(authenticationTimeout)),
                Extensions = (parse.GetValue(extensions) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
                Durability = parse.GetValue(durability) == "fsync" ? Engine.EngineDurability.Fsync : Engine.EngineDurability.ProcessCrash,
                SnapshotCacheDirectory = parse.GetValue(cacheDir),
                UseSnapshotCache = !parse.GetValue(noSnapshotCache),
                HttpPort = parse.GetValue(httpPort),
                HttpHost = parse.GetValue(httpHost)!,
                EnginePollWindow = TimeSpan.FromMicroseconds(parse.GetValue(enginePoll)),
                AutoPrepare = !parse.GetValue(noAutoPrepare),
                MigrationFolders = parse.GetValue(migrations) ?? [],
                Backup = backup.ForServe(parse),
                MaxMessageSize = parse.GetValue(maxMessageSize),
                MaxCopyInBytes = parse.GetValue(maxCopyBytes),
            };
            var sidecar = new SidecarOptions(parse.GetValue(run), parse.GetValue(parentPid));
            return await RunAsync(options, sidecar, parse.GetValue(logLevel), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ZeroPgOptions options, SidecarOptions sidecar, LogLevel level, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var logger = loggerFactory.CreateLogger("ZeroPg.Cli");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });

        if (PortCheck.Busy(options.Host, options.Port) is { } busy)
        {
            Console.Error.WriteLine(busy);
            return 1;
        }
        ZeroPgServer server;
        try
        {
            server = await ZeroPgServer.StartAsync(options, loggerFactory, stop.Token);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogCritical("ZeroPg could not start: {Message}", error.Message);
            return 1;
        }
        var exitCode = 0;
        await using (server)
        {
            WriteReadyLine(server);
            logger.LogInformation("ZeroPg ready: {Url}", server.Url);
            exitCode = await Sidecar.RunUntilStoppedAsync(server, sidecar, logger, stop.Token);
            logger.LogInformation("shutting down");
            await server.StopAsync();
        }
        return exitCode;
    }

    /// <summary>The sidecar handshake: exactly one JSON line on stdout, everything else goes to stderr.</summary>
    private static void WriteReadyLine(ZeroPgServer server)
    {
        var ready = new Dictionary<string, object>
        {
            ["port"] = server.Port,
            ["host"] = server.Host,
            ["url"] = server.Url,
        };
        if (server.UnixSocketFile is not null)
            ready["socket"] = server.UnixSocketFile;
        if (server.HttpPort is { } httpPort)
            ready["httpPort"] = httpPort;
        if (server.Backup is { } backup)
            ready["backup"] = new { url = backup.Url, state = backup.State, detail = backup.Detail, restored = backup.RestoredFrom };
        Console.Out.WriteLine(JsonSerializer.Serialize(ready));
        Console.Out.Flush();
    }
}
