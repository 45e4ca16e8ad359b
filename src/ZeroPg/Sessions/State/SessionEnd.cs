using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>The engine call that removes a departing client's state (<see cref="ISessionState.WriteCleanup"/>): ZeroPg's own SQL and messages, in order.</summary>
internal sealed class SessionEnd(BatchBuffer buffer, EngineSessionState engine)
{
    /// <summary>The shared engine session's state (whose temp relations carry their names, and so on).</summary>
    public EngineSessionState Engine => engine;

    /// <summary>Protocol messages of the cleanup (a Close of a statement and its Sync).</summary>
    public BatchBuffer Buffer => buffer;

    /// <summary>Adds a statement, run as a Query of its own (one failing does not skip the rest).</summary>
    public void Sql(string? statement)
    {
        if (!string.IsNullOrEmpty(statement))
            QueryMessage.Write(buffer, statement);
    }
}
