using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// One kind of per-client state that lives in the one engine session every client shares (prepared statements,
/// cursors, temp relations, settings, LISTEN channels, advisory locks, the client encoding, ...). The engine session
/// is the client's only while its batches run, so each object says what the session needs of it: which statements
/// concern it (<see cref="Observe"/>, from the one SQL analysis), the SQL that puts the engine session in its client's
/// state (<see cref="WritePreamble"/>), how to read it back after a unit (<see cref="AfterUnitAsync"/>, one engine call
/// for all objects), the SQL that removes it when the client leaves (<see cref="LeftBehind"/>, <see cref="WriteCleanup"/>)
/// and what an engine restart does to it (<see cref="Lost"/>). The session, <see cref="EngineStateRestore"/>,
/// <see cref="SessionCleanup"/> and the effects step iterate over the registered objects (<see cref="SessionStates"/>)
/// and name none of them. Every member has a default that does nothing: an object implements what it takes part in.
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

    /// <summary>The engine restarted: what lived in its session is gone.</summary>
    void Lost()
    {
    }
}
