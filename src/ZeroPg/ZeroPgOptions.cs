using ZeroPg.Engine;

namespace ZeroPg;

/// <summary>Settings of a ZeroPg server. Defaults suit tests: an in-memory database on a free loopback port.</summary>
public sealed class ZeroPgOptions
{
    public const string MemoryDatabase = "memory://";

    /// <summary>"memory://" (the default) or the path of a data directory, created when missing.</summary>
    public string DataDirectory { get; set; } = MemoryDatabase;

    /// <summary>Address to listen on for Postgres clients.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="ZeroPgServer.Port"/>).</summary>
    public int Port { get; set; }

    /// <summary>
    /// Also (or only, with <see cref="DisableTcp"/>) listen on a Unix socket. A directory gets the
    /// socket file Postgres clients look for, ".s.PGSQL.&lt;port&gt;"; any other path is used as is.
    /// </summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>Listen on the Unix socket only.</summary>
    public bool DisableTcp { get; set; }

    /// <summary>Client connections allowed at once; more get FATAL 53300 like Postgres.</summary>
    public int MaxConnections { get; set; } = 100;

    /// <summary>Largest single protocol message accepted from a client (COPY data is counted separately).</summary>
    public int MaxMessageSize { get; set; } = 256 * 1024 * 1024;

    /// <summary>
    /// Largest COPY FROM STDIN accepted. ZeroPg keeps a COPY's data until CopyDone (past 4 MB in an unlinked temporary file
    /// under the temp directory), then runs it in pieces of <see cref="CopyPieceBytes"/>: this bounds the disk it may take.
    /// </summary>
    public long MaxCopyInBytes { get; set; } = 16L << 30;

    /// <summary>
    /// About how many bytes of COPY FROM STDIN data one engine call loads (cut at a row boundary). PGlite's COPY is superlinear in
    /// the size of one call, and the engine host holds one piece at a time; bench/copy.sh measured the curve (bench/README.md).
    /// </summary>
    public int CopyPieceBytes { get; set; } = 4 << 20;

    /// <summary>At most about this many rows (lines) of COPY FROM STDIN data per engine call: short rows would make a piece of
    /// <see cref="CopyPieceBytes"/> hold hundreds of thousands, where PGlite's COPY slows down (bench/README.md, COPY).</summary>
    public int CopyPieceRows { get; set; } = 50_000;

    /// <summary>
    /// Inside a transaction block a COPY FROM STDIN holds the shared engine until CopyDone: a client that sends no COPY data for this
    /// long is disconnected (FATAL 25P03) and its transaction rolled back, so a stalled COPY cannot hold everyone for the
    /// idle-in-transaction timeout. Zero: no limit. Outside a transaction block a COPY holds nothing while its data comes.
    /// </summary>
    public TimeSpan CopyStallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The node executable that runs the engine host.</summary>
    public string NodePath { get; set; } = "node";

    /// <summary>The engine-host folder (host.mjs and node_modules); found automatically when null.</summary>
    public string? EngineHostDirectory { get; set; }

    /// <summary>How long the engine may take to start.</summary>
    public TimeSpan EngineStartTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>PGlite extensions to preload (pgcrypto, citext, vector, ...).</summary>
    public IList<string> Extensions { get; set; } = [];

    /// <summary>
    /// How long a cancelled statement (CancelRequest, statement_timeout, lock_timeout, its client gone) may
    /// go on running inside the engine before ZeroPg restarts the engine to stop it. Postgres's own
    /// interrupt checks stop nearly every query within milliseconds; this is the fallback for one that
    /// ignores them. The cancelled client gets 57014 and stays connected. Zero never restarts (the query runs to its end).
    /// A memory:// engine is restarted only with <see cref="CancelRestartsMemoryEngine"/>: by default it is waited for.
    /// Time the engine spends waiting for a client that does not read its reply does not count (Postgres too waits for it).
    /// </summary>
    public TimeSpan CancelRestartAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// memory:// only: a statement that runs on <see cref="CancelRestartAfter"/> after its cancel is stopped by restarting
    /// the engine, which loses every client's data (true), or waited for, as Postgres does, with a Warning in the log and
    /// <c>zeropg_cancels_unhonoured_total{action="waited"}</c> in /metrics (false, the default). A data directory's engine
    /// is always restarted: a crash restart keeps every committed row.
    /// </summary>
    public bool CancelRestartsMemoryEngine { get; set; }

    /// <summary>Tests only: environment variables added to the engine host's (e.g. ZEROPG_TEST_IGNORE_CANCEL=1).</summary>
    internal IReadOnlyDictionary<string, string> EngineHostEnvironment { get; set; } = new Dictionary<string, string>();

    /// <summary>A client waiting this long for the shared engine gets an ERROR; zero waits forever.</summary>
    public TimeSpan QueueWaitTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>A client waiting this long for the shared engine gets a NOTICE saying so.</summary>
    public TimeSpan QueueWaitNotice { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A client idle this long inside a transaction is rolled back and disconnected (25P03); zero is off. On by default, as
    /// managed Postgres services set idle_in_transaction_session_timeout: here a client idle in a transaction holds the one
    /// engine session and blocks every other client. A client's own idle_in_transaction_session_timeout may only shorten it.
    /// </summary>
    public TimeSpan IdleInTransactionTimeout { get; set; } = DefaultIdleInTransactionTimeout;

    public static readonly TimeSpan DefaultIdleInTransactionTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A client that sits idle while it holds the shared engine (in a transaction block, in an extended sequence it has not
    /// ended with Sync, in a COPY inside a block) is rolled back and disconnected (25P03) once it has been idle this long and
    /// another client has waited for the engine this long; zero is off. In Postgres an idle transaction costs the others
    /// nothing but its locks; here it stops every client of the database, so a stalled or hostile client may not keep them
    /// waiting for the ten minutes of <see cref="IdleInTransactionTimeout"/>. Alone, a client may idle as before.
    /// </summary>
    public TimeSpan ContendedIdleTimeout { get; set; } = DefaultContendedIdleTimeout;

    public static readonly TimeSpan DefaultContendedIdleTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connection must complete its startup packet within this time or it is closed, as Postgres's
    /// authentication_timeout does (1 s to 10 min): silent and half-open sockets cannot pile up.
    /// </summary>
    public TimeSpan AuthenticationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The engine of a database other than postgres stops after this long without clients (it starts again on the next
    /// connection); zero keeps it running. A memory:// database goes to sleep instead: its cluster is kept as a tar in the
    /// server's temporary folder, which its next engine starts from (up to <see cref="MemoryDatabaseSleepLimit"/>).
    /// </summary>
    public TimeSpan DatabaseIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The largest memory:// database (its files, as pg_database_size counts them) that goes to sleep when idle; a larger one
    /// keeps its engine: its tar would take that much of the temporary folder's disk, and its sleep seconds of the host's time.
    /// </summary>
    internal long MemoryDatabaseSleepLimit { get; set; } = 256L << 20;

    /// <summary>
    /// When to keep a spare engine started ahead for the next CREATE DATABASE (it then answers in milliseconds instead of an
    /// engine start): by default once the server has created a database; the spare costs one idle engine's memory and is
    /// stopped after <see cref="DatabaseIdleTimeout"/> without a CREATE DATABASE.
    /// </summary>
    public Databases.SpareEngineMode SpareDatabaseEngine { get; set; } = Databases.SpareEngineMode.Auto;

    /// <summary>
    /// How long a client may leave its results unread (its socket accepting no bytes) while its statement holds the shared
    /// engine. Past it the client is disconnected and its statement cancelled in the engine, so the others are served:
    /// ZeroPg buffers what the socket and Kestrel's pipe hold (about 1 MB), never a whole result. Zero: wait forever.
    /// </summary>
    public TimeSpan ClientWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The last line against one client holding everyone: a statement that has run in the engine longer than this while
    /// other clients wait for it is cancelled in the engine (57014, with a WARNING naming the watchdog). Generous on
    /// purpose (a long migration alone is never touched: only while others wait). Zero: off.
    /// </summary>
    public TimeSpan EngineWatchdog { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// An exported snapshot (CREATE_REPLICATION_SLOT ... SNAPSHOT 'export') can be imported only while nobody has written since
    /// it was taken, so while it waits for its importers other clients' writes wait too: until the exporting connection runs
    /// its next command or leaves, or until this long has passed with no importing transaction running. The bound for a
    /// consumer that exports and never copies (see Replication/README.md, "Exported snapshots").
    /// </summary>
    public TimeSpan ExportedSnapshotHold { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The memory settings of each PGlite engine (<see cref="Engine.EngineMemory"/>): small by default; -c settings override them.</summary>
    public EngineMemory EngineMemory { get; set; } = EngineMemory.Small;

    /// <summary>
    /// The most WebAssembly memory one PGlite engine may hold, in MB (PGlite's own limit is 2048). That memory never shrinks:
    /// a statement that allocates 1.5 GB once (<c>SELECT repeat('x', 900000000)</c> takes an engine from ~230 MB to 2 GB)
    /// would keep it for the engine's life. Past this limit the statement fails with 53200 "out of memory", as a Postgres
    /// backend does when the machine has no more, and the engine and its other clients run on. At least 256.
    /// </summary>
    public int EngineMemoryLimitMb { get; set; } = DefaultEngineMemoryLimitMb;

    /// <summary>The default <see cref="EngineMemoryLimitMb"/>: half of PGlite's 2 GiB, ~10x an idle engine.</summary>
    public const int DefaultEngineMemoryLimitMb = 1024;

    /// <summary>
    /// Where each database's engine runs. <see cref="EngineHostMode.Shared"/> (the default): every engine is a worker thread of
    /// ONE node process that compiles PGlite once, ~45-55 MB per idle database instead of ~170-200 MB for a process of its own (bench/README.md),
    /// and a worker that dies ends only its own database's engine, which restarts as a process would (bench/engines/FINDINGS.md,
    /// docs/databases.md). Linux only (FIFOs); elsewhere engines run as processes. <see cref="EngineHostMode.Process"/>: a node
    /// process per engine, whose memory all goes back when it stops. The default comes from $ZEROPG_SHARED_ENGINE_HOST (1:
    /// shared, 0: process) when set: how a test run tries every test in the other mode.
    /// </summary>
    public EngineHostMode EngineHost
    {
        get => _engineHost ?? EngineHostModes.FromEnvironment();
        set => _engineHost = value;
    }

    private EngineHostMode? _engineHost; // null: not set, $ZEROPG_SHARED_ENGINE_HOST or shared

    /// <summary>
    /// The shared engine host is recycled when the memory it holds beyond its running engines' WebAssembly heaps (what stopped
    /// engines left behind, V8's and glibc's, and its own base of ~100 MB) passes this many bytes: the next engine starts in a
    /// new host and the old one exits once its last engine has ended. Zero: never. The default, 512 MB, is about twice what a
    /// host held after engines were started and stopped over and over (bench/engines/FINDINGS.md).
    /// </summary>
    public long EngineHostMemoryBudget { get; set; } = DefaultEngineHostMemoryBudget;

    public const long DefaultEngineHostMemoryBudget = 512L << 20;

    /// <summary>
    /// The CPUs the engine hosts run on (all their threads: the engines' and Node's own); null: wherever this process may run.
    /// On a machine with two cores, an engine host on one core and the server on the other answer more for less CPU than both
    /// taking turns on both (bench/findings/round-trips.md, "The cores"): `zeropg serve` does that
    /// by default there (<c>--split-cores</c>). A library server leaves it to the application, whose process it shares. A host
    /// runs on any CPU while an engine starts and until it has used 10 s of CPU after that (ZEROPG_SPLIT_CORES_WARMUP).
    /// </summary>
    public IReadOnlyList<int>? EngineHostCpus { get; set; }

    /// <summary>Tests only: servers of different groups never share an engine host (one test kills its host, or gives it a tiny budget).</summary>
    internal string? EngineHostGroup { get; set; }

    /// <summary>Start new databases from a cached initdb snapshot (~1 s) instead of running initdb (4-8 s).</summary>
    public bool UseSnapshotCache { get; set; } = true;

    /// <summary>Where snapshots are kept; null uses $ZEROPG_CACHE_DIR, else $XDG_CACHE_HOME/zeropg or ~/.cache/zeropg.</summary>
    public string? SnapshotCacheDirectory { get; set; }

    /// <summary>
    /// Keep one spare memory:// engine started in the background, so the next server in this process
    /// with the same settings starts at once (test fixtures). Costs one idle engine (~45-55 MB in the shared engine host, ~170-200 MB as a process).
    /// Also keeps an engine started from each snapshot (<see cref="ZeroPgServer.SnapshotAsync"/>), so a restore swaps engines at once.
    /// </summary>
    public bool KeepWarmEngine { get; set; }

    /// <summary>What an acknowledged commit survives on an on-disk database (see <see cref="EngineDurability"/>).</summary>
    public EngineDurability Durability { get; set; } = EngineDurability.ProcessCrash;

    /// <summary>Serve /healthz, /readyz and /metrics over HTTP on this port (0 picks one); null is off.</summary>
    public int? HttpPort { get; set; }

    /// <summary>Address of the HTTP endpoint; loopback by default so metrics are not exposed.</summary>
    public string HttpHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// How long the engine host keeps polling for the next request after answering one, before it
    /// blocks. Waking a blocked process costs tens of microseconds on a virtual machine, more than a
    /// small query; polling costs CPU only while requests keep coming. Zero blocks at once.
    /// </summary>
    public TimeSpan EnginePollWindow { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How long ZeroPg polls for the engine's reply to a request before it blocks (see <see cref="EnginePollWindow"/>).</summary>
    public TimeSpan ReplyPollWindow { get; set; } = TimeSpan.FromMicroseconds(500);

    /// <summary>
    /// Run client connections' protocol work on the socket threads instead of handing it to the thread
    /// pool: one thread hop less per message. Session code never blocks on I/O, so this is on by default.
    /// </summary>
    public bool InlineSocketScheduling { get; set; } = true;

    /// <summary>
    /// Run a repeated simple-Query SELECT / INSERT / UPDATE / DELETE as a statement ZeroPg prepares once,
    /// with its number literals as parameters: parsing and planning are most of a small query's engine
    /// time, and the shared engine is the bottleneck. What the client receives is unchanged. The pool
    /// (<see cref="PoolSize"/>, <see cref="Upstream"/>) does the same on each backend it lends.
    /// </summary>
    public bool AutoPrepare { get; set; } = true;

    /// <summary>
    /// At most this many trivial statements the server runs through its own port before it reports ready, so that clients'
    /// first statements run code .NET and V8 have optimized (<see cref="Server.StartWarmUp"/>); it ends sooner once both
    /// runtimes have settled (<see cref="Server.TieringSettle"/>), or when a client connects (it is served meanwhile). 0, the
    /// default, turns it off: the ready line comes later by the warm-up's time (2-4 s of CPU), and a test process that starts
    /// many servers pays it per server (`zeropg serve --warm-up`).
    /// </summary>
    public int StartWarmUpStatements { get; set; }

    /// <summary>The warm-up ends after this long even when it has not settled (a slow or busy machine, a busy host application).</summary>
    public TimeSpan StartWarmUpLimit { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How many auto-prepared statements the engine (or each pooled backend) keeps; the least recently used is closed beyond that.</summary>
    public int AutoPrepareMaxStatements { get; set; } = 256;

    /// <summary>
    /// Migration folders applied at start, in order, before the server reports ready (clients that connect
    /// meanwhile wait): Prisma, drizzle-kit, Flyway-style or ordered .sql folders (see <see cref="Migrations.MigrationRunner"/>).
    /// </summary>
    public IList<string> MigrationFolders { get; set; } = [];

    /// <summary>
    /// A database created at start when it does not exist (the Postgres image's POSTGRES_DB); null means the
    /// <see cref="Security.SecurityOptions.User"/>'s name when that is not postgres, as the image does.
    /// </summary>
    public string? Database { get; set; }

    /// <summary>The database made at start, if any (see <see cref="Database"/>).</summary>
    internal string? StartDatabase => (Database ?? (Security.User == ZeroPg.Security.BootstrapRole.DefaultUser ? null : Security.User)) is { } name
        && name != ZeroPg.Security.BootstrapRole.DefaultUser ? name : null;

    /// <summary>
    /// Folders of *.sql files run once when the database is new, in name order (the Postgres image's
    /// /docker-entrypoint-initdb.d): memory:// at every start, a data directory on the start that creates it.
    /// </summary>
    public IList<string> InitFolders { get; set; } = [];

    /// <summary>The value of <see cref="Extensions"/> that preloads what `zeropg check` finds in <see cref="MigrationFolders"/> (or the current directory).</summary>
    public const string AutoExtensions = "auto";

    /// <summary>
    /// Continuous backup of the data directory to s3://bucket/prefix or file:///path, and restore from it
    /// on start when the directory is empty (see <see cref="Storage.Backup.BackupOptions"/>); null is off.
    /// </summary>
    public Storage.Backup.BackupOptions? Backup { get; set; }

    /// <summary>
    /// The engine: PGlite (the default) or real PostgreSQL binaries installed on the machine
    /// (<see cref="PostgresBinDirectory"/>, <see cref="PostgresSettings"/>), each client then passed to a backend of its own.
    /// </summary>
    public EngineKind Engine { get; set; } = EngineKind.Pglite;

    /// <summary>
    /// With <see cref="EngineKind.Postgres"/>: serve clients over at most this many backends, assigned per transaction
    /// (<see cref="ZeroPg.Engine.Pooled.BackendPool"/>); null passes each client to a backend of its own.
    /// </summary>
    public int? PoolSize { get; set; }

    /// <summary>
    /// A Postgres ZeroPg did not start, pooled (<see cref="PoolSize"/>, default 10) instead of a cluster of its own:
    /// postgresql://user:password@host:port/database?sslmode=require. The backends log in with its user and password.
    /// </summary>
    public string? Upstream { get; set; }

    /// <summary>
    /// Pooled clients and their backends on one event loop of ZeroPg's own (<see cref="ZeroPg.Engine.Pooled.PoolEventLoop"/>; Linux
    /// only, elsewhere ignored) instead of Kestrel's sockets and .NET's socket threads.
    /// </summary>
    public bool PoolEventLoop { get; set; } = true;

    /// <summary>How long a pooled client waits for a backend before its statement fails with 57014 (as --queue-wait-timeout) (zero: no limit).</summary>
    public TimeSpan PoolWaitTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// How long a pooled server keeps a role a login read from the server behind (<see cref="ZeroPg.Engine.Pooled.LoginRoleCache"/>):
    /// logins of a role in that time take no backend. A role changed through the pool is read again at once; one changed on
    /// the server directly, after this. Zero reads it at every login.
    /// </summary>
    public TimeSpan PoolLoginRoleCacheAge { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where postgres and initdb are for <see cref="EngineKind.Postgres"/>; null searches PATH, pg_config and /usr/lib/postgresql/N/bin.</summary>
    public string? PostgresBinDirectory { get; set; }

    /// <summary>
    /// Server settings given to the engine at start as -c name=value (the CLI's -c): PGlite's start parameters, or a native
    /// PostgreSQL's command line (where the CLI adds `zeropg tune`'s). They are the defaults every client's RESET returns to.
    /// </summary>
    public IDictionary<string, string> PostgresSettings { get; set; } = new Dictionary<string, string>();

    /// <summary>
    /// PGlite's max_slot_wal_keep_size unless <see cref="PostgresSettings"/> (-c) gives one: a logical replication slot more than
    /// this much WAL behind is invalidated ('lost') and its captured changes purged, so a consumer that went away cannot grow
    /// the change log without bound (Postgres's default, -1, keeps everything).
    /// </summary>
    public const string DefaultMaxSlotWalKeepSize = "1GB";

    /// <summary>Authentication (trust or SCRAM-SHA-256, the postgres role's password) and TLS.</summary>
    public Security.SecurityOptions Security { get; set; } = new();

    public bool IsMemory => string.Equals(DataDirectory, MemoryDatabase, StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the settings at start so a mistake fails fast with a clear message.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"Port must be between 0 and 65535, not {Port}.");
        if (MaxConnections < 1)
            throw new ArgumentException($"MaxConnections must be at least 1, not {MaxConnections}.");
        if (MaxMessageSize < 1024)
            throw new ArgumentException($"MaxMessageSize must be at least 1024 bytes, not {MaxMessageSize}.");
        if (EngineMemoryLimitMb is < 256 or > 2048)
            throw new ArgumentException($"EngineMemoryLimitMb must be between 256 and 2048 (PGlite's own limit), not {EngineMemoryLimitMb}.");
        if (MaxCopyInBytes < 1024)
            throw new ArgumentException($"MaxCopyInBytes must be at least 1024 bytes, not {MaxCopyInBytes}.");
        if (CopyPieceRows < 1)
            throw new ArgumentException($"CopyPieceRows must be at least 1, not {CopyPieceRows}.");
        if (CopyPieceBytes < 1024)
            throw new ArgumentException($"CopyPieceBytes must be at least 1024 bytes, not {CopyPieceBytes}.");
        if (CopyStallTimeout < TimeSpan.Zero)
            throw new ArgumentException($"CopyStallTimeout must not be negative, not {CopyStallTimeout}.");
        if (string.IsNullOrWhiteSpace(DataDirectory))
            throw new ArgumentException("DataDirectory must be \"memory://\" or a directory path.");
        if (DisableTcp && string.IsNullOrEmpty(UnixSocketPath))
            throw new ArgumentException("DisableTcp needs a UnixSocketPath.");
        if (string.IsNullOrWhiteSpace(Host))
            throw new ArgumentException("Host must be an address or host name.");
        if (HttpPort is < 0 or > 65535)
            throw new ArgumentException($"HttpPort must be between 0 and 65535, not {HttpPort}.");
        if (HttpPort is > 0 && HttpPort == Port)
            throw new ArgumentException("HttpPort must differ from Port.");
        if (!Enum.IsDefined(Durability))
            throw new ArgumentException($"Durability {Durability} is not a known mode.");
        if (QueueWaitTimeout < TimeSpan.Zero || IdleInTransactionTimeout < TimeSpan.Zero || ContendedIdleTimeout < TimeSpan.Zero || QueueWaitNotice < TimeSpan.Zero || ClientWriteTimeout < TimeSpan.Zero || EngineWatchdog < TimeSpan.Zero)
            throw new ArgumentException("Timeouts must not be negative.");
        if (AuthenticationTimeout < TimeSpan.FromSeconds(1) || AuthenticationTimeout > TimeSpan.FromMinutes(10))
            throw new ArgumentException($"AuthenticationTimeout must be between 1 s and 10 min (as Postgres's authentication_timeout), not {AuthenticationTimeout}.");
        if (ExportedSnapshotHold < TimeSpan.Zero || ExportedSnapshotHold > TimeSpan.FromMinutes(10))
            throw new ArgumentException($"ExportedSnapshotHold must be between 0 and 10 min, not {ExportedSnapshotHold}.");
        if (_engineHost is null)
            EngineHostModes.ValidateEnvironment();
        if (!Enum.IsDefined(EngineHost))
            throw new ArgumentException($"EngineHost {EngineHost} is not a known mode.");
        if (EngineHostMemoryBudget < 0)
            throw new ArgumentException($"EngineHostMemoryBudget must not be negative, not {EngineHostMemoryBudget}.");
        if (EngineHostCpus is { } cpus && (cpus.Count == 0 || cpus.Any(c => c is < 0 or >= 1024)))
            throw new ArgumentException($"EngineHostCpus must name CPUs from 0 to 1023, not [{string.Join(", ", cpus)}].");
        if (!Enum.IsDefined(SpareDatabaseEngine))
            throw new ArgumentException($"SpareDatabaseEngine {SpareDatabaseEngine} is not a known mode.");
        if (DatabaseIdleTimeout < TimeSpan.Zero)
            throw new ArgumentException($"DatabaseIdleTimeout must not be negative, not {DatabaseIdleTimeout}.");
        if (CancelRestartAfter != TimeSpan.Zero && (CancelRestartAfter < TimeSpan.FromMilliseconds(100) || CancelRestartAfter > TimeSpan.FromHours(1)))
            throw new ArgumentException($"CancelRestartAfter must be 0 (never restart) or between 100 ms and 1 h, not {CancelRestartAfter}.");
        if (AutoPrepareMaxStatements < 1)
            throw new ArgumentException($"AutoPrepareMaxStatements must be at least 1, not {AutoPrepareMaxStatements}.");
        if (Backup is not null)
        {
            if (IsMemory)
                throw new ArgumentException("A backup needs a data directory (--db DIR): memory:// has no files to back up.");
            Backup.Validate();
        }
        Security.Validate(Host, tcp: !DisableTcp);
        if (!Enum.IsDefined(Engine))
            throw new ArgumentException($"Engine {Engine} is not a known engine.");
        foreach (var (name, _) in PostgresSettings)
        {
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
                throw new ArgumentException($"\"{name}\" is not a setting name (-c name=value).");
        }
        foreach (var folder in InitFolders)
            Migrations.InitScripts.Files(folder);
        if (Engine == EngineKind.Postgres && (Backup is not null || MigrationFolders.Count > 0 || Extensions.Count > 0 || KeepWarmEngine || InitFolders.Count > 0))
            throw new ArgumentException("--engine postgres serves the native server as it is: backups, --migrations, --init, --extensions and warm engines are PGlite features "
                + "(run migrations with your tool against the server, and CREATE EXTENSION what the installed PostgreSQL has).");
        if (PoolSize is < 1)
            throw new ArgumentException($"--pool must be at least 1, not {PoolSize}.");
        if ((PoolSize is not null || Upstream is not null) && Engine != EngineKind.Postgres)
            throw new ArgumentException("--pool and --upstream pool backends of a native PostgreSQL: add --engine postgres.");
        if (PoolSize > MaxConnections && Upstream is null)
            throw new ArgumentException($"--pool {PoolSize} is more than the server's max_connections ({MaxConnections}).");
        if (Upstream is not null)
            ZeroPg.Engine.Pooled.UpstreamUrl.Parse(Upstream);
        if (EnginePollWindow < TimeSpan.Zero || EnginePollWindow > TimeSpan.FromSeconds(1) || ReplyPollWindow < TimeSpan.Zero || ReplyPollWindow > TimeSpan.FromSeconds(1))
            throw new ArgumentException("EnginePollWindow and ReplyPollWindow must be between 0 and 1 s.");
    }
}
