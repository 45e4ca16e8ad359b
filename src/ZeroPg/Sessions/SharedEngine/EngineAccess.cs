namespace ZeroPg.Sessions;

/// <summary>
/// What a session wants the engine for, as an <see cref="IEngineGate"/> sees it (an exported snapshot keeps writers out
/// while its importers come: Replication/Snapshots). Decided from the unit's SQL before it waits.
/// </summary>
internal enum EngineAccess : byte
{
    /// <summary>Anything that may write (most SQL, COPY, a walsender's own statements).</summary>
    Ordinary,

    /// <summary>Only transaction control, settings, SHOW and SELECTs that call no function: by its text, cannot take a transaction id.</summary>
    ReadOnly,

    /// <summary>Runs SET TRANSACTION SNAPSHOT: a transaction importing an exported snapshot.</summary>
    Import,

    /// <summary>ZeroPg's own reads at login (roles, startup settings).</summary>
    Internal,
}

/// <summary>Decides which waiting sessions may have the engine now. Owned by whoever installs it on the scheduler; called under the scheduler's lock, so it must not block.</summary>
internal interface IEngineGate
{
    bool Admits(object session, EngineAccess access);

    /// <summary>The engine was released by <paramref name="session"/> (under the scheduler's lock).</summary>
    void Released(object session);
}
