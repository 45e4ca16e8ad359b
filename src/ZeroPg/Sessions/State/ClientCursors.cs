using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// A client's SQL cursors: DECLARE, FETCH, MOVE, CLOSE and WHERE CURRENT OF name them "zp&lt;pid&gt;_name" in the engine
/// (<see cref="SqlEditKind.CursorName"/>), so two clients can each hold a cursor of the same name and reach only their
/// own; pg_cursors shows a client its own. WITH HOLD cursors outlive the transaction, so they are closed when the
/// client leaves (<see cref="CloseSql"/>). Thread: the session.
/// </summary>
internal sealed class ClientCursors(SessionIdentity identity) : ISessionState
{
    /// <summary>The client declared a cursor at some point (one may still be open).</summary>
    public bool MayHold { get; private set; }

    /// <summary>SQL the unit being built sends: a DECLARE in it may leave a cursor open.</summary>
    public void Observe(SqlAnalysis sql)
    {
        if (sql.Effects.DeclaresCursor)
        {
            MayHold = true;
            MayHoldAcrossTransactions |= sql.Sql.Contains("hold", StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>The client declared a cursor WITH HOLD (a text that names HOLD): one may still be open outside any transaction.</summary>
    public bool MayHoldAcrossTransactions { get; private set; }

    /// <summary>
    /// A cursor lives in the engine session and its place in its result cannot be rebuilt: a client that may hold a WITH HOLD
    /// cursor cannot go on. One without HOLD ended with the transaction the restart ended.
    /// </summary>
    public RestartOutcome Restarted()
    {
        var holds = MayHoldAcrossTransactions;
        MayHold = MayHoldAcrossTransactions = false;
        return holds ? RestartOutcome.CannotRestore("its cursors declared WITH HOLD") : RestartOutcome.NothingHeld;
    }

    /// <summary>A WITH HOLD cursor outlives its transaction: one the client may hold is closed when it leaves.</summary>
    public bool LeftBehind() => MayHold;

    public void WriteCleanup(SessionEnd end)
    {
        if (MayHold)
            end.Sql(SqlEdit.CloseOwnCursorsSql(identity.ProcessId));
    }
}
