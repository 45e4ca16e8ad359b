using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// What an engine restart means for a session. The engine dies (the supervisor starts a new one), is killed to stop a
/// cancelled statement that did not stop (<see cref="CancelBound"/>, or at once where the host cannot cancel inside the
/// engine), or is replaced by a snapshot's restore (<see cref="EngineSupervisor.TakeOver"/>). Loading an extension does not
/// restart it (<see cref="ExtensionLoader"/>), nor does the shared engine host's memory budget (a host over it only starts no
/// new engines and exits once its last one has ended), nor an idle database's engine stop (only with no client connected).
/// Nothing of the old engine session survives: the first session to get the new engine clears the shared catalog and engine
/// state, and each session, once per lost engine, forgets its reply sequence and asks its session objects what became of its
/// state (<see cref="ISessionState.Restarted"/>). A client whose every object put its state back (LISTEN, settings, prepared
/// statements, advisory locks) goes on as before; one with anything that cannot be put back (temp tables, WITH HOLD cursors,
/// SQL PREPARE statements), and every client of an in-memory database whose engine died (its data died too), is ended with
/// FATAL 57P01 (<see cref="SessionLostError"/>): at its next engine grant, or at once when the death wakes its idle read
/// (<see cref="HeldEngineWatch"/>). Never half a session. The client whose cancelled call was stopped so gets 57014 as an ERROR
/// and stays when its session is whole (<see cref="CancelledError"/>); other clients whose call was in flight get FATAL
/// (<see cref="LostError"/>). Thread: the session.
/// </summary>
internal sealed class EngineRestart(SessionServices services, ReplyForwarder forwarder, SessionStates states)
{
    private int _seenGeneration;

    /// <summary>The last lost engine generation whose restart the session objects were told of (once each).</summary>
    private int _assessedGeneration;

    /// <summary>The FATAL the client is owed: its session could not be put back whole after a restart.</summary>
    public PgError? Ended { get; private set; }

    /// <summary>
    /// Called on every grant of the engine, and after a restart under a held grant. Unless <paramref name="mayEnd"/> is false (a
    /// departed client's cleanup), a client whose session a restart could not put back is ended here (<see cref="PgErrorException"/>, FATAL).
    /// </summary>
    public void OnEngineAcquired(bool mayEnd = true)
    {
        var generation = services.Engine.Generation;
        if (services.Statements.ForgetForGeneration(generation))
            services.EngineState.Reset();
        if (_seenGeneration != generation)
        {
            var lost = _seenGeneration;
            _seenGeneration = generation;
            forwarder.ResetSequence();
            if (lost != 0)
                Assess(lost);
        }
        if (mayEnd)
            ThrowIfEnded();
    }

    /// <summary>The engine of <paramref name="generation"/> died while this session waited idle for its client (<see cref="HeldEngineWatch"/>): the client is ended at once if its session cannot be put back.</summary>
    public void OnEngineDied(int generation)
    {
        if (generation == _seenGeneration)
            Assess(generation);
        ThrowIfEnded();
    }

    /// <summary>The engine this session last used was replaced (its call learnt it without holding the engine): its session objects are told now, nothing is thrown.</summary>
    public void OnEngineReplaced()
    {
        if (_seenGeneration != 0 && _seenGeneration != services.Engine.Generation)
            Assess(_seenGeneration);
    }

    private void ThrowIfEnded()
    {
        if (Ended is { } ended)
            throw new PgErrorException(ended);
    }

    private void Assess(int lostGeneration)
    {
        if (_assessedGeneration >= lostGeneration)
            return;
        _assessedGeneration = lostGeneration;
        var lost = states.Restarted();
        var memoryReset = services.Engine.Site.IsMemory && !services.Engine.WasReplaced(lostGeneration);
        if (Ended is null && (lost.Count > 0 || memoryReset))
            Ended = SessionLostError(lost, memoryReset);
    }

    /// <summary>The FATAL of a client whose session a restart could not put back whole, naming what was lost.</summary>
    private PgError SessionLostError(List<string> lost, bool memoryReset)
    {
        var detail = lost.Count == 0 ? null : "Lost with the engine session: " + string.Join("; ", lost) + ".";
        if (memoryReset)
        {
            return PgError.Fatal(SqlState.AdminShutdown, "terminating connection because the in-memory database was reset: its PGlite engine restarted",
                "The database is in memory (memory://): its tables and rows died with the engine, and the new engine starts empty (or from its --init scripts and migrations). "
                + "Reconnect to use the fresh database; use a data directory (--db DIR) to keep data across engine restarts.", detail);
        }
        return PgError.Fatal(SqlState.AdminShutdown, "terminating connection because the PGlite engine restarted and this session's state could not be restored",
            "Committed data is kept. Reconnect and start again. After a restart ZeroPg puts back LISTEN, settings, prepared statements and advisory locks; "
            + "temporary tables, cursors WITH HOLD and statements made by SQL PREPARE die with the engine.", detail);
    }

    /// <summary>
    /// The FATAL for a session whose open transaction's engine is dead or replaced since its last grant, or null while that
    /// engine runs. A held grant gets no new grant, so nothing else tells the session before its next call would reach the
    /// new engine (<see cref="HeldEngineWatch"/> does while it waits idle, if the death is known before its read).
    /// </summary>
    public PgError? LostTransactionError()
    {
        var engine = services.Engine;
        if (engine.Running is { IsFailed: false } && engine.Generation == _seenGeneration)
            return null;
        var detail = engine.Running is { IsFailed: true } dead ? dead.Diagnostics() : "the engine the transaction ran in stopped and is being replaced";
        return LostError(new EngineFailedException(detail));
    }

    /// <summary>
    /// The FATAL a client gets when the engine its call or its open transaction ran in is gone. Its DETAIL names what died with the
    /// transaction (the portals bound in it, <see cref="SessionStates.DiesWithTransaction"/>), then the engine's end.
    /// </summary>
    public PgError LostError(EngineFailedException error)
    {
        var lost = states.DiesWithTransaction();
        var detail = lost.Count == 0 ? error.Message : $"Lost with the open transaction: {string.Join("; ", lost)}. {error.Message}";
        return PgError.Fatal(SqlState.AdminShutdown,
            "terminating connection because the PGlite engine stopped; it is being restarted",
            services.Options.IsMemory
                ? "The database is in memory (memory://), so its data is lost. Reconnect to get a fresh database; use a data directory (--db DIR) to keep data across engine restarts."
                : "Committed data is kept; reconnect and retry the transaction.",
            detail);
    }

    /// <summary>
    /// The ERROR a client gets when the engine was killed to stop its cancelled call: the cancel's own error, with a
    /// hint saying what the restart cost. Its connection and session go on.
    /// </summary>
    public PgError CancelledError(EngineFailedException error, bool inTransaction)
    {
        var (state, message) = error.CancelReason switch
        {
            EngineCancelReason.StatementTimeout => (SqlState.QueryCanceled, "canceling statement due to statement timeout"),
            EngineCancelReason.LockTimeout => (SqlState.LockNotAvailable, "canceling statement due to lock timeout"),
            _ => (SqlState.QueryCanceled, "canceling statement due to user request"),
        };
        var why = CancelRestartReason(error);
        var data = services.Options.IsMemory
            ? "The database is in memory (memory://): all its data was lost."
            : "Committed data is kept.";
        var transaction = inTransaction ? " The open transaction was lost: ROLLBACK ends it." : "";
        return PgError.Error(state, message,
            $"{why} {data} This connection stays with its session: its settings, prepared statements, LISTEN channels and advisory locks are put back.{transaction}");
    }

    /// <summary>Why the engine was restarted under a cancelled call (said to its client, in its ERROR or its FATAL).</summary>
    public static string CancelRestartReason(EngineFailedException error) => error.IgnoredCancelFor > TimeSpan.Zero
        ? $"The statement did not stop within {error.IgnoredCancelFor.TotalSeconds:0.#} s of its cancel, so ZeroPg restarted the PGlite engine to stop it."
        : "This engine host cannot interrupt a running query, so ZeroPg restarted the PGlite engine to stop it.";
}
