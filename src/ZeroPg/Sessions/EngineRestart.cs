using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// What an engine restart means for the sessions. The engine dies (the supervisor starts a new one) or,
/// where it cannot cancel a query itself (no cancel worker: see <see cref="SessionCancel"/>), is killed to
/// stop one. Loading an extension does not restart it (<see cref="ExtensionLoader"/> loads into the running
/// engine). Nothing of the old engine session survives: the first session to get the new engine clears the shared catalog and engine state, each
/// session forgets its reply sequence, and clients whose call was in flight get FATAL (<see cref="LostError"/>).
/// Prepared statements are prepared again on use, settings and temp relations restored by the next batch
/// (<see cref="EngineStateRestore"/>). Thread: the session.
/// </summary>
internal sealed class EngineRestart(SessionServices services, ReplyForwarder forwarder)
{
    private int _seenGeneration;

    /// <summary>Called on every grant of the engine.</summary>
    public void OnEngineAcquired()
    {
        var generation = services.Engine.Generation;
        if (services.Statements.ForgetForGeneration(generation))
            services.EngineState.Reset();
        if (_seenGeneration != generation)
        {
            _seenGeneration = generation;
            forwarder.ResetSequence();
        }
    }

    /// <summary>The FATAL a client gets when the engine its call ran in is gone.</summary>
    public PgError LostError(EngineFailedException error, bool killedForThisClient) => error.KilledToCancel && killedForThisClient
        ? PgError.Fatal(SqlState.QueryCanceled, "canceling statement due to user request",
            "PGlite cannot interrupt a running query, so the engine was restarted to stop it. Committed data is kept; reconnect.", error.Message)
        : PgError.Fatal(SqlState.AdminShutdown,
            "terminating connection because the PGlite engine stopped; it is being restarted",
            services.Options.IsMemory
                ? "The database is in memory (memory://), so its data is lost. Reconnect to get a fresh database; use a data directory (--db DIR) to keep data across engine restarts."
                : "Committed data is kept; reconnect and retry the transaction.",
            error.Message);
}
