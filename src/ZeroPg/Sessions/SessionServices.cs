using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>
/// What the client sessions of one database share: its engine, scheduler, statement catalog, notification hub,
/// role directory and engine state; and what the whole server shares: the registry (pids, cancel, --max-connections),
/// the options, the metrics, TLS and the database catalog.
/// </summary>
internal sealed class SessionServices(ZeroPgOptions options, EngineSupervisor engine, EngineScheduler scheduler, SessionRegistry registry, Statements.StatementCatalog statements, Hosting.ZeroPgMetrics metrics, Security.ServerTls tls, ILoggerFactory loggerFactory)
{
    public ZeroPgOptions Options { get; } = options;
    public Hosting.ZeroPgMetrics Metrics { get; } = metrics;
    public EngineSupervisor Engine { get; } = engine;
    public EngineScheduler Scheduler { get; } = scheduler;
    public SessionRegistry Registry { get; } = registry;
    public Statements.StatementCatalog Statements { get; } = statements;

    /// <summary>The database these services serve (the engine's current_database()).</summary>
    public string DatabaseName => Engine.Site.Name;

    /// <summary>Every database of the server (set once by the catalog when it is made, before any client connects).</summary>
    public Databases.DatabaseCatalog Databases { get; set; } = null!;

    /// <summary>The TLS certificate, when the server has one.</summary>
    public Security.ServerTls Tls { get; } = tls;

    /// <summary>The engine's login roles, read when needed (<see cref="Security.RoleDirectory"/>).</summary>
    public Security.RoleDirectory Roles { get; } = new();

    /// <summary>Salt material for the SCRAM exchange of a role that does not exist, stable for this server's life (Postgres's mock_auth_nonce).</summary>
    public byte[] MockNonce { get; } = Security.OsRandom.GetBytes(32);
    public EngineSessionState EngineState { get; } = new();
    public NotificationHub Notifications { get; } = new();
    public AdvisoryLockKeeper AdvisoryLocks { get; } = new();
    /// <summary>Which replication slots are streaming, to which walsender.</summary>
    public Replication.Slots.SlotActivity ReplicationSlots { get; } = new();
    /// <summary>The snapshots exported by CREATE_REPLICATION_SLOT, and the engine gate that lets their importers in first.</summary>
    public Replication.Snapshots.ExportedSnapshots Snapshots { get; } = new(scheduler, options.ExportedSnapshotHold);
    public StartupSettingsCheck StartupSettings { get; } = new();
    public ILogger Logger { get; } = loggerFactory.CreateLogger("ZeroPg.Sessions");
    private readonly EngineHoldLog _holdLog = EngineHoldLog.Attach(scheduler, engine, metrics, loggerFactory.CreateLogger("ZeroPg.Sessions"));
    private readonly EngineWaitLog _waitLog = EngineWaitLog.Attach(scheduler, engine, loggerFactory.CreateLogger("ZeroPg.Sessions"));
}
