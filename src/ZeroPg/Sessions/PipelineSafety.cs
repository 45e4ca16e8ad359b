namespace ZeroPg.Sessions;

/// <summary>
/// Decides whether a client's statement may be sent to the engine before the previous client's
/// reply has come back. It may when it is certain to leave the engine session as it found it: idle,
/// outside a transaction block, with no setting, statement, cursor, listen, lock or temporary object
/// of its own. One statement of plain DML or a query qualifies; anything unsure does not.
/// </summary>
internal static class PipelineSafety
{
    private static readonly HashSet<string> Leading = new(StringComparer.Ordinal) { "SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPDATE", "DELETE" };

    private static readonly HashSet<string> Denied = new(StringComparer.Ordinal)
    {
        // Transaction control and session-level statements, wherever they appear.
        "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE", "EXECUTE", "DEALLOCATE",
        "LISTEN", "UNLISTEN", "NOTIFY", "PG_NOTIFY", "SET_CONFIG", "RESET", "DISCARD", "TEMP", "TEMPORARY", "LOCK", "COPY",
        "CALL", "DO", "CREATE", "DROP", "ALTER", "DECLARE", "FETCH", "MOVE", "CLOSE", "LOAD", "CURSOR",
    };

    public static bool IsSafe(string sql)
    {
        var first = true;
        var ended = false;
        foreach (var token in SqlText.Tokens(sql))
        {
            var text = token.Text;
            if (ended)
                return false; // a second statement
            if (text == ";")
            {
                ended = true;
                continue;
            }
            if (first && !Leading.Contains(text))
                return false;
            first = false;
            if (Denied.Contains(text) || text.Contains("ADVISORY", StringComparison.Ordinal))
                return false;
        }
        return !first;
    }
}
