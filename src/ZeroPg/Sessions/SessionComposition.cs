using System.IO.Pipelines;
using System.Net;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// A client session's collaborators, wired once: the server's sessions and the tests' build them here alike. The session
/// objects (<see cref="ISessionState"/>) are registered in <see cref="States"/>, in the order their SQL goes to the engine:
/// a new kind of per-client state is one class and one line there.
/// </summary>
internal sealed class SessionComposition
{
    public SessionComposition(object owner, SessionServices services, IReadOnlyDictionary<string, string> startupParameters, PipeReader input, PipeWriter transport,
        CancellationToken connectionClosed, EndPoint? remote = null, Action? abandonClient = null, Action? transactionTimedOut = null)
    {
        Services = services;
        Input = input;
        ConnectionClosed = connectionClosed;
        Settings = new SessionSettings(startupParameters);
        var output = Output = new ClientOutput(transport, new ClientEncoding(Settings.StartupClientEncoding));
        Cancel = new SessionCancel(connectionClosed);
        Notifications = new ClientNotifications(output, services.Notifications, () => Identity.ProcessId);
        Temp = new TempRelations(Identity);
        Cursors = new ClientCursors(Identity);
        Activity = new SessionActivity(remote, services.Metrics);
        Advisory = new AdvisoryLocks(services, Identity, Cancel, State, output, connectionClosed);
        TransactionTimeout = new TransactionTimeout(Settings, transactionTimedOut ?? (() => { }));
        var heldMessages = new HeldMessages();
        Forwarder = new ReplyForwarder(output, Settings, Notifications, Cancel, TransactionTimeout, () => Identity.ProcessId, services.Registry,
            services.Options.ClientWriteTimeout, abandonClient ?? (() => { }), heldMessages,
            () => services.Options.ContendedIdleTimeout > TimeSpan.Zero && services.Scheduler.LongestWait >= services.Options.ContendedIdleTimeout);
        Statements = new StatementMapping(services.Statements, Identity);
        Auto = new AutoPrepare(services, Settings, Temp);
        EncodingAnswers = new ClientEncodingAnswers(output, State, Settings);
        Portals = new Portals.SuspendedPortals(State, Identity, output);
        States = new SessionStates(
        [
            Notifications,
            Settings,
            EncodingAnswers,
            Advisory,
            Cursors,
            Statements,
            Temp,
            Auto,
            Portals,
        ]);
        Restart = new EngineRestart(services, Forwarder, States);
        Lease = new EngineLease(owner, services, Cancel, Restart, output, Loans, Forwarder, connectionClosed);
        Link = new EngineLink(services, Forwarder, Cancel, State, Restart, Lease, () => Identity.ProcessId);
        Replication = new SessionReplication(Link, services, () => Identity.ProcessId, heldMessages);
        Deferred = new Waiting.DeferredTransaction(State, Statements, output, Settings, () => services.Scheduler.Owner is not null);
        Waits = new Waiting.UnitWaits(Settings, Deferred, State, Statements);
        Restore = new EngineStateRestore(services, States, State, Deferred);
        Timeouts = new SessionTimeouts(services.Options, Settings, State);
        Rewriter = new UnitRewriter(Statements, Auto, Restore, State, Identity, Notifications, Settings, States, services, Temp);
        Local = new LocalAnswers(State, Statements, services.Statements, output);
        Pipelining = new Pipelining(State, Settings, Temp, Advisory, Statements);
        Guarded = new GuardedRestore(this);
        Copy = new CopyIn(services, State, Link, Restore, Guarded, output, Lease);
        Cleanup = new SessionCleanup(services, State, Lease, Link, Statements, Copy, States);
    }

    public SessionServices Services { get; }
    public PipeReader Input { get; }
    public ClientOutput Output { get; }
    public CancellationToken ConnectionClosed { get; }
    public SessionIdentity Identity { get; } = new();
    public ProtocolState State { get; } = new();
    public ClientBatch Batch { get; } = new();
    public EngineBatch EngineBatch { get; } = new();
    public EngineLoans Loans { get; } = new();
    public SessionSettings Settings { get; }
    public SessionCancel Cancel { get; }
    public ClientNotifications Notifications { get; }
    public TempRelations Temp { get; }
    public ClientCursors Cursors { get; }
    public SessionActivity Activity { get; }
    public AdvisoryLocks Advisory { get; }
    public TransactionTimeout TransactionTimeout { get; }
    public ReplyForwarder Forwarder { get; }
    public StatementMapping Statements { get; }
    public AutoPrepare Auto { get; }
    public ClientEncodingAnswers EncodingAnswers { get; }
    public SessionStates States { get; }
    public EngineRestart Restart { get; }
    public EngineLease Lease { get; }
    public EngineLink Link { get; }
    public SessionReplication Replication { get; }
    public EngineStateRestore Restore { get; }
    public GuardedRestore Guarded { get; }
    public Waiting.DeferredTransaction Deferred { get; }
    public Waiting.UnitWaits Waits { get; }
    public Portals.SuspendedPortals Portals { get; }
    public SessionTimeouts Timeouts { get; }
    public UnitRewriter Rewriter { get; }
    public LocalAnswers Local { get; }
    public Pipelining Pipelining { get; }
    public CopyIn Copy { get; }
    public SessionCleanup Cleanup { get; }
}
