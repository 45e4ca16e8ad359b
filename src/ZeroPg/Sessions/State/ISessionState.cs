using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// One kind of per-client state that lives in the one engine session every client shares (prepared statements,
/// cursors, temp relations, settings, LISTEN channels, advisory locks, the client encoding, ...). The engine session
/// is the client's only while its batches run, so each object says what the session needs of it: which statements
/// concern it (<see cref="Observe"/>, from the one SQL analysis), the SQL that puts the engine session in its client's
/// state (<see cref="WritePreamble"/>), how to read it back after a unit (<see cref="AfterUnitAsync"/>, one engine call
/// for all objects), the SQL that removes it when the client leaves (<see cref="LeftBehind"/>, <see cref="WriteCleanup"/>)
/// and what an engine restart does to it (<see cref="Restarted"/>, which every object must answer). The session, <see cref="EngineStateRestore"/>,
/// <see cref="SessionCleanup"/> and the effects step iterate over the registered objects (<see cref="SessionStates"/>)
/// and name none of them. Every member but <see cref="Restarted"/> has a default that does nothing: an object implements what it
/// takes part in, and says what a restart does to it (restored, or the client is ended with 57P01: never half a session).
/// Thread: the session's; members that take a <see cref="Preamble"/>, a <see cref="ReadBack"/> or a <see cref="SessionEnd"/>
/// run while the session holds the engine.
/// </summary>
internal interface ISessionState
{
    /// <summary>A statement of a unit being built for the engine (a Query's or a Parse's SQL), analysed once.</summary>
    void Observe(SqlAnalysis sql)
    {
    }

    /// <summary>Adds what the engine session lacks of this state to the head of the client's next batch.</summary>
    void WritePreamble(Preamble preamble)
    {
    }

    /// <summary>A unit ran: takes what its statements did (<see cref="UnitOutcome.Effects"/>) and adds to the one read-back call what must be read from the engine.</summary>
    ValueTask AfterUnitAsync(UnitOutcome unit, ReadBack readBack) => ValueTask.CompletedTask;

    /// <summary>The client left: forgets what is held outside the engine; true when something is left in the engine session to remove.</summary>
    bool LeftBehind() => false;

    /// <summary>The client left and the engine is held for its cleanup (whatever <see cref="LeftBehind"/> said of this object): adds what removes it.</summary>
    void WriteCleanup(SessionEnd end)
    {
    }

    /// <summary>After the cleanup, run or not (the engine is released).</summary>
    void Ended()
    {
    }

    /// <summary>
    /// What of this state lives only inside the client's open transaction block (portals bound in it), named for the client when the
    /// engine restarts under that transaction and the client is ended with FATAL 57P01 (<see cref="EngineRestart.LostError"/>), as
    /// Postgres would have lost it; null when none. It must not touch the engine.
    /// </summary>
    string? DiesWithTransaction() => null;

    /// <summary>
    /// The engine restarted (it died, was killed to stop a statement that ignored its cancel, or a snapshot's restore replaced it):
    /// everything of its session is gone. The object forgets what died and says what becomes of its client's state: none held
    /// there, put back whole (<see cref="RestartOutcome.Restored"/>: how), or lost (<see cref="RestartOutcome.CannotRestore"/>:
    /// what; the client is then ended with FATAL 57P01, never left half-restored). No default: an object cannot be registered
    /// without saying which. Called once per lost engine, on the session's thread, before the session's next engine call or when
    /// its idle read is woken by the death (<see cref="EngineRestart"/>); it must not touch the engine.
    /// </summary>
    RestartOutcome Restarted();
}
