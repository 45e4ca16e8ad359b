using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// What an engine restart means for the sessions. The engine dies (the supervisor starts a new one) or is
/// killed to stop a cancelled statement that did not stop (<see cref="CancelBound"/>, or at once where the host
/// cannot cancel inside the engine). Loading an extension does not restart it (<see cref="ExtensionLoader"/>
/// loads into the running engine). Nothing of the old engine session survives: the first session to get the
/// new engine clears the shared catalog and engine state, each session forgets its reply sequence and tells its session objects
/// (<see cref="ISessionState.Lost"/>: temp relations died with the engine session). The client whose cancelled call was stopped so gets 57014 as
/// an ERROR and stays (<see cref="CancelledError"/>); other clients whose call was in flight get FATAL
/// (<see cref="LostError"/>). Prepared statements are prepared again on use, settings restored by the next batch
/// (<see cref="EngineStateRestore"/>), advisory locks by <see cref="AdvisoryLockKeeper"/>. Thread: the session.
/// </summary>
internal sealed class EngineRestart(SessionServices services, ReplyForwarder forwarder, SessionStates states)
{
    private int _seenGeneration;

    /// <summary>Called on every grant of the engine, and after a restart under a held grant.</summary>
    public void OnEngineAcquired()
    {
        var generation = services.Engine.Generation;
        if (services.Statements.ForgetForGeneration(generation))
            services.EngineState.Reset();
        if (_seenGeneration != generation)
        {
            _seenGeneration = generation;
            forwarder.ResetSequence();
            states.Lost();
        }
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

    /// <summary>The FATAL a client gets when the engine its call ran in is gone.</summary>
    public PgError LostError(EngineFailedException error) => PgError.Fatal(SqlState.AdminShutdown,
        "terminating connection because the PGlite engine stopped; it is being restarted",
        services.Options.IsMemory
            ? "The database is in memory (memory://), so its data is lost. Reconnect to get a fresh database; use a data directory (--db DIR) to keep data across engine restarts."
            : "Committed data is kept; reconnect and retry the transaction.",
        error.Message);

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
        var why = error.IgnoredCancelFor > TimeSpan.Zero
            ? $"The statement did not stop within {error.IgnoredCancelFor.TotalSeconds:0.#} s of its cancel, so ZeroPg restarted the PGlite engine to stop it."
            : "This engine host cannot interrupt a running query, so ZeroPg restarted the PGlite engine to stop it.";
        var data = services.Options.IsMemory
            ? "The database is in memory (memory://): all its data was lost."
            : "Committed data is kept.";
        var transaction = inTransaction ? " The open transaction was lost: ROLLBACK ends it." : "";
        return PgError.Error(state, message,
            $"{why} {data} This connection stays; its settings are kept and its prepared statements are prepared again when used, but its temporary tables are gone.{transaction}");
    }
}
