using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli;

/// <summary>`zeropg serve`: flags follow pglite-socket's where they overlap.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db", "-D") { Description = "memory:// (default) or a data directory, created when missing [env ZEROPG_DB]", DefaultValueFactory = _ => ServeEnvironment.Database() };
        var port = new Option<int>("--port", "-p") { Description = "TCP port; 0 picks a free one (printed in the ready line) [env ZEROPG_PORT, PGPORT, PORT]", DefaultValueFactory = ServeEnvironment.Port };
        var host = new Option<string>("--host", "-H") { Description = "address to listen on (-h is help, as in every zeropg command) [env ZEROPG_HOST]", DefaultValueFactory = _ => ServeEnvironment.Host() };
        var path = new Option<string?>("--path") { Description = "also listen on this Unix socket (a directory gets .s.PGSQL.<port>)" };
        var maxConnections = new Option<int>("--max-connections") { Description = "client connections allowed at once", DefaultValueFactory = _ => 100 };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Trace, Debug, Information, Warning, Error, Critical or None (logs go to stderr)", DefaultValueFactory = _ => LogLevel.Information };
        var extensions = new Option<string?>("--extensions") { Description = "comma-separated PGlite extensions to preload (pgcrypto,citext,vector,...), or auto: those `zeropg check` finds in the --migrations folders" };
        var databaseIdleTimeout = new Option<double>("--database-idle-timeout") { Description = "seconds a database other than postgres may have no clients before its engine stops (memory://: it sleeps, its cluster kept as a tar in the temporary folder; 0 = never)", DefaultValueFactory = _ => 300 };
        var queueWaitTimeout = new Option<double>("--queue-wait-timeout") { Description = "seconds a client may wait for the shared engine before its statement fails (0 = forever)" };
        var idleInTransactionTimeout = new Option<double>("--idle-in-transaction-timeout") { Description = "seconds a client may sit idle inside a transaction before it is rolled back and disconnected (0 = off)", DefaultValueFactory = _ => ZeroPgOptions.DefaultIdleInTransactionTimeout.TotalSeconds };
        var clientWriteTimeout = new Option<double>("--client-write-timeout") { Description = "seconds a client may leave its results unread while its query holds the engine, before it is disconnected and the query cancelled (0: forever)", DefaultValueFactory = _ => 30 };
        var engineWatchdog = new Option<double>("--engine-watchdog") { Description = "seconds a statement may run in the shared engine while other clients wait before it is cancelled (0: off)", DefaultValueFactory = _ => 300 };
        var cancelRestartAfter = new Option<double>("--cancel-restart-after") { Description = "seconds a cancelled statement may go on running before the engine is restarted to stop it (0 = never); a memory:// engine is waited for instead, unless --cancel-restart-memory", DefaultValueFactory = _ => new ZeroPgOptions().CancelRestartAfter.TotalSeconds };
        var cancelRestartMemory = new Option<bool>("--cancel-restart-memory") { Description = "memory:// only: restart the engine to stop a statement that ignores its cancel, losing every client's data (default: wait for it, as Postgres does)" };
        var authenticationTimeout = new Option<double>("--authentication-timeout") { Description = "seconds a connection may take to send its startup packet before it is closed (1-600, as Postgres's authentication_timeout)", DefaultValueFactory = _ => 60 };
        var spareEngine = new Option<string>("--spare-engine") { Description = "auto (default: once a database was created, keep an engine started for the next CREATE DATABASE; one idle engine's memory), always, or off", DefaultValueFactory = _ => "auto" };
        spareEngine.AcceptOnlyFromAmong("auto", "always", "off");
        var durability = new Option<string>("--durability") { Description = "process-crash (default: commits survive a crash of the engine or server) or fsync (also an OS crash; slower)", DefaultValueFactory = _ => "process-crash" };
        durability.AcceptOnlyFromAmong("process-crash", "fsync");
        var cacheDir = new Option<string?>("--cache-dir") { Description = "where initdb snapshots are cached (default $ZEROPG_CACHE_DIR, $XDG_CACHE_HOME/zeropg or ~/.cache/zeropg)" };
        var noSnapshotCache = new Option<bool>("--no-snapshot-cache") { Description = "always run initdb for a new database" };
        var engineMemory = new Option<string>("--engine-memory") { Description = "each PGlite engine's memory settings: small (shared_buffers=16MB, wal_buffers=512kB, temp_buffers=1MB) or postgres (Postgres's defaults: 128MB, 4MB, 8MB); -c overrides either", DefaultValueFactory = _ => "small" };
        engineMemory.AcceptOnlyFromAmong("small", "postgres");
        var engineMemoryLimit = new Option<int>("--engine-memory-limit") { Description = "MB of WebAssembly memory one engine may hold (256-2048); a statement that needs more fails with 53200 out of memory, and the engine runs on", DefaultValueFactory = _ => ZeroPgOptions.DefaultEngineMemoryLimitMb };
        var engineHost = new Option<string>("--engine-host") { Description = "shared (default: every database's engine a worker thread of one node process, ~45-55 MB per idle database, ten ~0.63 GB (bench/README.md); Linux, elsewhere process) or process (a node process per engine, ~170-200 MB each) [env ZEROPG_SHARED_ENGINE_HOST=1|0]", DefaultValueFactory = ServeEnvironment.EngineHost };
        engineHost.AcceptOnlyFromAmong("shared", "process");
        var engineHostBudget = new Option<long>("--engine-host-budget") { Description = "MB the shared engine host may hold beyond its engines' heaps before new engines start in a new host and it exits once its last engine ends (0 = never)", DefaultValueFactory = _ => ZeroPgOptions.DefaultEngineHostMemoryBudget >> 20 };
        var httpPort = new Option<int?>("--http-port") { Description = "serve /healthz, /readyz and /metrics on this port (0 picks one, printed in the ready line)" };
        var httpHost = new Option<string>("--http-host") { Description = "address of the HTTP endpoint", DefaultValueFactory = _ => "127.0.0.1" };
        var run = new Option<string?>("--run") { Description = "run this shell command with DATABASE_URL and ZEROPG_CONNECTION_STRING set, stop when it exits and exit with its code" };
        var parentPid = new Option<int?>("--parent-pid") { Description = "stop when the process with this pid exits" };
        var enginePoll = new Option<int>("--engine-poll-us") { Description = "microseconds the engine host polls for the next request before it sleeps (0 = sleep at once: less CPU, more latency)", DefaultValueFactory = _ => 1000 };
        var splitCores = new Option<string>("--split-cores") { Description = "auto (default: on when this machine gives ZeroPg exactly two CPUs), on or off: the engine hosts run on the last CPU, the server on the others (two cores: more answers for less CPU) [env ZEROPG_SPLIT_CORES]", DefaultValueFactory = _ => ServeEnvironment.SplitCores() };
        splitCores.AcceptOnlyFromAmong("auto", "on", "off");
        var replyPoll = new Option<int>("--engine-reply-poll-us") { Description = "microseconds the server polls for the engine's reply before it sleeps (0 = sleep at once)", DefaultValueFactory = _ => (int)new ZeroPgOptions().ReplyPollWindow.TotalMicroseconds };

        var password = new Option<string?>("--password") { Description = "the postgres role's password; turns on SCRAM-SHA-256 [env ZEROPG_PASSWORD, POSTGRES_PASSWORD]", DefaultValueFactory = _ => ServeEnvironment.Password() };
        var auth = new Option<string>("--auth") { Description = "trust or scram-sha-256 (default: scram-sha-256 when a password is set, else trust, which a non-loopback --host refuses unless given explicitly)", DefaultValueFactory = _ => "default" };
        auth.AcceptOnlyFromAmong("default", "trust", "scram-sha-256");
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate: answer SSLRequest and direct TLS (TLS 1.2/1.3) [env ZEROPG_TLS_CERT]", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ZEROPG_TLS_CERT") };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert [env ZEROPG_TLS_KEY]", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ZEROPG_TLS_KEY") };
        var tls = new Option<string?>("--tls") { Description = "self-signed: make (once) and use a certificate kept in the data directory (memory://: the cache directory); clients trust its server.crt" };
        tls.AcceptOnlyFromAmong("self-signed");

        var engine = new Option<string>("--engine") { Description = "pglite (default: Postgres 18 in WebAssembly, nothing to install) or postgres (real PostgreSQL binaries on this machine, tuned by `zeropg tune`, one backend per client) [env ZEROPG_ENGINE]", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ZEROPG_ENGINE") is { Length: > 0 } e ? e : "pglite" };
        engine.AcceptOnlyFromAmong("pglite", "postgres");
        var pool = new Option<int?>("--pool") { Description = "with --engine postgres: serve all clients over at most N backends, lent per transaction; each client keeps its own session state [env ZEROPG_POOL]", DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("ZEROPG_POOL"), out var n) ? n : null };
        var upstream = new Option<string?>("--upstream") { Description = "with --engine postgres: pool a PostgreSQL ZeroPg did not start, postgresql://user:password@host:port/db?sslmode=require (--pool backends, default 10) [env ZEROPG_UPSTREAM]", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ZEROPG_UPSTREAM") };
        var noPoolEventLoop = new Option<bool>("--no-pool-event-loop") { Description = "Linux: serve pooled clients through Kestrel's sockets instead of the pool's own epoll loop" };
        var poolTimeout = new Option<int>("--pool-timeout") { Description = "seconds a pooled client's statement waits for a backend before it fails with 57014 (0: no limit)", DefaultValueFactory = _ => 120 };
        var poolRoleCache = new Option<int>("--pool-role-cache") { Description = "seconds a pooled server keeps a role a login read from the server behind (a change through the pool is seen at once; 0: read at every login)", DefaultValueFactory = _ => 5 };
        var postgresBin = new Option<string?>("--postgres-bin") { Description = "with --engine postgres: the directory of postgres and initdb (default: PATH, pg_config, /usr/lib/postgresql/N/bin)" };

        var user = new Option<string>("--user") { Description = "the superuser role clients use, created at start when missing; --password is its password [env ZEROPG_USER, POSTGRES_USER]", DefaultValueFactory = _ => ServeEnvironment.User() };
        var database = new Option<string?>("--database") { Description = "a database created at start when missing (default: the --user's name when it is not postgres, as the Postgres image does) [env ZEROPG_DATABASE, POSTGRES_DB]", DefaultValueFactory = _ => ServeEnvironment.DatabaseName() };
        var settings = new Option<string[]>("--set", "-c") { Description = "a server setting for the engine, name=value (repeatable), as postgres -c takes it: the default every client starts with", AllowMultipleArgumentsPerToken = false };
        var init = new Option<string[]>("--init") { Description = "run this folder's *.sql files in name order when the database is new (memory://: every start), as the Postgres image's /docker-entrypoint-initdb.d (repeatable) [env ZEROPG_INIT]", DefaultValueFactory = _ => ServeEnvironment.Init() };

        var migrations = new Option<string[]>("--migrations") { Description = "apply this folder's pending migrations before the server is ready (Prisma, drizzle-kit, Flyway-style or ordered .sql; repeatable)", AllowMultipleArgumentsPerToken = false };
        var backup = new BackupFlags();
        var warmUp = new Option<int>("--warm-up") { Description = "at most this many trivial statements the server runs through its own port before the ready line, until .NET and V8 have compiled the optimized code (3 s at most), so that clients' first statements run it (e.g. 20000; default 0: off) [env ZEROPG_WARM_UP]", DefaultValueFactory = _ => ServeEnvironment.WarmUp() };
        var noAutoPrepare = new Option<bool>("--no-auto-prepare") { Description = "send repeated simple Queries to the engine (or a pooled backend) as they are, instead of through statements ZeroPg prepares once" };
        var maxMessageSize = new Option<int>("--max-message-size") { Description = "largest protocol message a client may send, in bytes (COPY data is limited by --max-copy-bytes)", DefaultValueFactory = _ => new ZeroPgOptions().MaxMessageSize };
        var maxCopyBytes = new Option<long>("--max-copy-bytes") { Description = "largest COPY FROM STDIN, in bytes (kept in a temporary file until CopyDone)", DefaultValueFactory = _ => new ZeroPgOptions().MaxCopyInBytes };
        var copyPieceBytes = new Option<int>("--copy-piece-bytes") { Description = "COPY FROM STDIN data loaded per engine call, in bytes, cut at a row boundary", DefaultValueFactory = _ => new ZeroPgOptions().CopyPieceBytes };
        var copyPieceRows = new Option<int>("--copy-piece-rows") { Description = "at most this many COPY FROM STDIN rows per engine call", DefaultValueFactory = _ => new ZeroPgOptions().CopyPieceRows };
        var contendedIdleTimeout = new Option<double>("--contended-idle-timeout") { Description = "seconds a client may sit idle holding the shared engine (in a transaction, an unsynced extended sequence) while another client waits for it, before it is rolled back and disconnected (0 = off)", DefaultValueFactory = _ => ZeroPgOptions.DefaultContendedIdleTimeout.TotalSeconds };
        var copyStallTimeout = new Option<double>("--copy-stall-timeout") { Description = "seconds a COPY FROM STDIN inside a transaction block may go without data before the client is disconnected (0 = never)", DefaultValueFactory = _ => new ZeroPgOptions().CopyStallTimeout.TotalSeconds };

        var command = new Command("serve", "Run the server until SIGINT/SIGTERM. Prints one JSON line {\"port\",\"host\",\"url\"} on stdout when ready.")
        {
            db, port, host, path, maxConnections, logLevel, extensions, queueWaitTimeout, databaseIdleTimeout, idleInTransactionTimeout, contendedIdleTimeout, authenticationTimeout, clientWriteTimeout, engineWatchdog, cancelRestartAfter, cancelRestartMemory,
            durability, cacheDir, noSnapshotCache, engineHost, engineHostBudget, engineMemory, engineMemoryLimit, httpPort, httpHost, run, parentPid, enginePoll, replyPoll, noAutoPrepare,
            migrations,
            maxMessageSize, maxCopyBytes, copyPieceBytes, copyPieceRows, copyStallTimeout,
            password, auth, tlsCert, tlsKey, tls, engine, pool, upstream, poolTimeout, noPoolEventLoop, poolRoleCache, postgresBin, user, settings, init, database,
            spareEngine, splitCores, warmUp,
        };
        foreach (var option in backup.ServeOptions)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) =>
        {
            Dictionary<string, string> serverSettings;
            try
            {
                serverSettings = ServeEnvironment.Settings(parse.GetValue(settings) ?? []);
            }
            catch (ArgumentException error)
            {
                Console.Error.WriteLine($"zeropg serve: {error.Message}");
                return 2;
            }
            var engineKind = parse.GetValue(engine) == "postgres" ? Engine.EngineKind.Postgres : Engine.EngineKind.Pglite;
            var split = CoreSplit.Plan(parse.GetValue(splitCores)!, Hosting.CpuAffinity.Allowed(), engineKind == Engine.EngineKind.Pglite);
            var options = new ZeroPgOptions
            {
                DataDirectory = parse.GetValue(db)!,
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                UnixSocketPath = parse.GetValue(path),
                MaxConnections = parse.GetValue(maxConnections),
                QueueWaitTimeout = TimeSpan.FromSeconds(parse.GetValue(queueWaitTimeout)),
                DatabaseIdleTimeout = TimeSpan.FromSeconds(parse.GetValue(databaseIdleTimeout)),
                SpareDatabaseEngine = Enum.Parse<Databases.SpareEngineMode>(parse.GetValue(spareEngine)!, ignoreCase: true),
                IdleInTransactionTimeout = TimeSpan.FromSeconds(parse.GetValue(idleInTransactionTimeout)),
                ContendedIdleTimeout = TimeSpan.FromSeconds(parse.GetValue(contendedIdleTimeout)),
                AuthenticationTimeout = TimeSpan.FromSeconds(parse.GetValue(authenticationTimeout)),
                ClientWriteTimeout = TimeSpan.FromSeconds(parse.GetValue(clientWriteTimeout)),
                EngineWatchdog = TimeSpan.FromSeconds(parse.GetValue(engineWatchdog)),
                CancelRestartAfter = TimeSpan.FromSeconds(parse.GetValue(cancelRestartAfter)),
                CancelRestartsMemoryEngine = parse.GetValue(cancelRestartMemory),
                Extensions = (parse.GetValue(extensions) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
                Durability = parse.GetValue(durability) == "fsync" ? Engine.EngineDurability.Fsync : Engine.EngineDurability.ProcessCrash,
                SnapshotCacheDirectory = parse.GetValue(cacheDir),
                UseSnapshotCache = !parse.GetValue(noSnapshotCache),
                EngineHost = Engine.EngineHostModes.Parse(parse.GetValue(engineHost)) ?? Engine.EngineHostMode.Shared,
                EngineHostMemoryBudget = parse.GetValue(engineHostBudget) << 20,
                EngineMemory = parse.GetValue(engineMemory) == "postgres" ? Engine.EngineMemory.Postgres : Engine.EngineMemory.Small,
                EngineMemoryLimitMb = parse.GetValue(engineMemoryLimit),
                HttpPort = parse.GetValue(httpPort),
                HttpHost = parse.GetValue(httpHost)!,
                EnginePollWindow = TimeSpan.FromMicroseconds(parse.GetValue(enginePoll)),
                ReplyPollWindow = TimeSpan.FromMicroseconds(parse.GetValue(replyPoll)),
                AutoPrepare = !parse.GetValue(noAutoPrepare),
                StartWarmUpStatements = Math.Max(0, parse.GetValue(warmUp)),
                MigrationFolders = parse.GetValue(migrations) ?? [],
                Backup = backup.ForServe(parse),
                MaxMessageSize = parse.GetValue(maxMessageSize),
                MaxCopyInBytes = parse.GetValue(maxCopyBytes),
                CopyPieceBytes = parse.GetValue(copyPieceBytes),
                CopyPieceRows = parse.GetValue(copyPieceRows),
                CopyStallTimeout = TimeSpan.FromSeconds(parse.GetValue(copyStallTimeout)),
                Engine = engineKind,
                EngineHostCpus = split?.Engine,
                PostgresBinDirectory = parse.GetValue(postgresBin),
                PoolSize = parse.GetValue(pool),
                Upstream = parse.GetValue(upstream),
                PoolWaitTimeout = TimeSpan.FromSeconds(parse.GetValue(poolTimeout)),
                PoolEventLoop = !parse.GetValue(noPoolEventLoop),
                PoolLoginRoleCacheAge = TimeSpan.FromSeconds(parse.GetValue(poolRoleCache)),
                InitFolders = parse.GetValue(init) ?? [],
                Database = parse.GetValue(database),
                PostgresSettings = serverSettings,
                Security = new Security.SecurityOptions
                {
                    User = parse.GetValue(user)!,
                    Password = parse.GetValue(password),
                    Authentication = parse.GetValue(auth) switch
                    {
                        "trust" => Security.AuthenticationMethod.Trust,
                        "scram-sha-256" => Security.AuthenticationMethod.ScramSha256,
                        _ => Security.AuthenticationMethod.Default,
                    },
                    TlsCertificateFile = parse.GetValue(tls) is { } mode ? mode : parse.GetValue(tlsCert),
                    TlsKeyFile = parse.GetValue(tls) is null ? parse.GetValue(tlsKey) : null,
                },
            };
            if (options.Engine == Engine.EngineKind.Postgres)
            {
                // The machine's tune settings, under what -c gave.
                var tuned = NativeTuning();
                foreach (var (name, value) in options.PostgresSettings)
                    tuned[name] = value;
                options.PostgresSettings = tuned;
            }
            var sidecar = new SidecarOptions(parse.GetValue(run), parse.GetValue(parentPid));
            return await RunAsync(options, sidecar, split?.Server, parse.GetValue(logLevel), cancellationToken);
        });
        return command;
    }

    /// <summary>`zeropg tune`'s settings for this machine (memory and CPUs detected as tune does); --max-connections stays the flag's.</summary>
    private static Dictionary<string, string> NativeTuning()
    {
        var resources = new Tuning.ResourceDetector().Detect(null, null);
        return Tuning.ServerTuning.Compute(resources.MemoryMb, Math.Max(1, resources.Cpus))
            .Where(s => s.Name != "max_connections")
            .ToDictionary(s => s.Name, s => s.Value);
    }

    private static async Task<int> RunAsync(ZeroPgOptions options, SidecarOptions sidecar, int[]? serverCpus, LogLevel level, CancellationToken cancellationToken)
    {
        using var loggerFactory = new DeferredLoggerFactory(() => LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddFilter(HostNoise.Keep(level))
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)));
        var logger = loggerFactory.CreateLogger("ZeroPg.Cli");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });

        var inlineCompletions = options.InlineSocketScheduling && InlineSocketCompletions.Enable(); // before any socket waits
        // Conditions a user can cause, each in one line with the fix, before seconds go into starting an engine.
        if ((PortCheck.Busy(options.Host, options.Port)
            ?? (options.HttpPort is { } httpPort ? PortCheck.HttpBusy(options.HttpHost, httpPort) : null)
            ?? DataDirectoryCheck.Problem(options.DataDirectory)) is { } problem)
        {
            Console.Error.WriteLine(problem);
            return 1;
        }
        ZeroPgServer server;
        try
        {
            server = await ZeroPgServer.StartAsync(options, loggerFactory, stop.Token);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A failure of ZeroPg's own (a bug) carries its stack, so that a report can name where; a user's cause (a port in use,
            // a directory it cannot open) is said in its message alone.
            logger.LogCritical(IsBug(error) ? error : null, "ZeroPg could not start: {Message}", error.Message);
            return 1;
        }
        finally
        {
            if (inlineCompletions)
                InlineSocketCompletions.HideFromChildren();
        }
        var exitCode = 0;
        await using (server)
        {
            if (serverCpus is not null)
            {
                Engine.EngineHostCores.PlaceServer(serverCpus); // once it has warmed up, as the engine hosts
                logger.LogInformation("the server goes to CPU {ServerCpus} and the engine hosts to CPU {EngineCpus} once each has warmed up (--split-cores)", string.Join(',', serverCpus), string.Join(',', options.EngineHostCpus!));
            }
            WriteReadyLine(server, options.HttpHost);
            logger.LogInformation("ZeroPg ready: {Url}", server.Url);
            StartGarbageCollection.Schedule(stop.Token);
            if (DashboardUrl(server, options.HttpHost) is { } dashboard)
                logger.LogInformation("dashboard: {Dashboard} (metrics {Dashboard}metrics, health {Dashboard}healthz and {Dashboard}readyz)", dashboard, dashboard, dashboard, dashboard);
            exitCode = await Sidecar.RunUntilStoppedAsync(server, sidecar, logger, stop.Token);
            logger.LogInformation("shutting down");
            await server.StopAsync();
        }
        return exitCode;
    }

    /// <summary>The sidecar handshake: exactly one JSON line on stdout, everything else goes to stderr.</summary>
    /// <summary>The dashboard's address as a browser on this machine opens it (a wildcard listen address is reached on loopback).</summary>
    internal static string? DashboardUrl(ZeroPgServer server, string httpHost)
    {
        if (server.HttpPort is not { } httpPort)
            return null;
        var host = httpHost is "0.0.0.0" or "*" or "" ? "127.0.0.1" : httpHost is "::" or "[::]" ? "[::1]" : httpHost.Contains(':') && !httpHost.StartsWith('[') ? $"[{httpHost}]" : httpHost;
        return $"http://{host}:{httpPort}/";
    }

    /// <summary>
    /// The ready line's fields (README, "The ready line"): port, host, url always; socket with --path; httpPort and
    /// dashboard with --http-port; tlsCertificate with --tls; backup with --backup.
    /// </summary>
    private static void WriteReadyLine(ZeroPgServer server, string httpHost)
    {
        var ready = new JsonObject
        {
            ["port"] = server.Port,
            ["host"] = server.Host,
            ["url"] = server.Url,
        };
        if (server.UnixSocketFile is not null)
            ready["socket"] = server.UnixSocketFile;
        if (server.HttpPort is { } httpPort)
        {
            ready["httpPort"] = httpPort;
            ready["dashboard"] = DashboardUrl(server, httpHost);
        }
        if (server.TlsCertificateFile is { } certificate)
            ready["tlsCertificate"] = certificate;
        if (server.Backup is { } backup)
            ready["backup"] = new JsonObject { ["url"] = backup.Url, ["state"] = backup.State, ["detail"] = backup.Detail, ["restored"] = backup.RestoredFrom };
        Console.Out.WriteLine(ready.ToJsonString());
        Console.Out.Flush();
    }

    private static bool IsBug(Exception error) => error is NullReferenceException or InvalidCastException or IndexOutOfRangeException
        or ArgumentException or KeyNotFoundException or NotImplementedException or NotSupportedException
        || error.InnerException is { } inner && IsBug(inner);
}
