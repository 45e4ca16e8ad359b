namespace ZeroPg.Sessions;

/// <summary>What the session must do after accepting a client message (accepting is synchronous; anything that waits is a step).</summary>
internal enum AcceptStep
{
    Continue,
    StartCopy,
    /// <summary>An Execute of a portal bound to COPY FROM STDIN (the extended protocol: Bind and Execute are the last two messages held).</summary>
    StartExtendedCopy,
    FinishCopy,
    /// <summary>A simple Query ZeroPg refuses itself: answered with an ERROR and ReadyForQuery, in order.</summary>
    Refuse,
    /// <summary>A replication command on a replication connection (run by the session's walsender).</summary>
    Replication,
    /// <summary>CREATE / DROP / ALTER DATABASE ... RENAME alone in a simple Query outside a transaction block: ZeroPg runs it (Databases.DatabaseCatalog).</summary>
    DatabaseCommand,
    /// <summary>SET / RESET / SHOW client_encoding as a whole simple Query: ZeroPg answers it (<see cref="ClientEncodingAnswers"/>).</summary>
    ClientEncoding,
    /// <summary>A SET on a replication connection while another client's transaction holds the engine: answered by ZeroPg (<see cref="SessionSettings.SetLater"/>).</summary>
    LocalSet,
    Terminate,
}
