namespace ZeroPg.Sessions.Statements;

/// <summary>Tells statements that may change the schema (DDL, or anything that may run it) from those that cannot.</summary>
internal static class SchemaChange
{
    /// <summary>Statements that cannot change which table a name means or what columns it has.</summary>
    private static readonly HashSet<string> KeepsSchema = new(StringComparer.Ordinal)
    {
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
        "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET", "SHOW", "PREPARE", "EXECUTE", "DEALLOCATE", "LISTEN", "UNLISTEN",
        "NOTIFY", "FETCH", "CLOSE", "DECLARE", "MOVE", "COPY", "LOCK", "CHECKPOINT", "ANALYZE", "VACUUM",
    };

    /// <summary>
    /// True when a statement of <paramref name="sql"/> starts with anything but a word known to keep
    /// the schema. DDL run from inside a function (SELECT f()) is not seen.
    /// </summary>
    public static bool IsPossible(string sql)
    {
        var statementStart = true;
        foreach (var token in SqlText.Tokens(sql))
        {
            if (token.Text == ";")
            {
                statementStart = true;
                continue;
            }
            if (statementStart && token.Text != "(" && !KeepsSchema.Contains(token.Text))
                return true;
            statementStart = false;
        }
        return false;
    }
}
