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
    /// the schema. DDL run from inside a function (SELECT f()) is not seen. With
    /// <paramref name="singleStatement"/> (a Parse) only the first word is looked at.
    /// </summary>
    public static bool IsPossible(string sql, bool singleStatement = false)
    {
        var statementStart = true;
        foreach (var token in SqlText.Tokens(sql))
        {
            if (token.Text == ";")
                statementStart = true;
            else if (!statementStart || token.Text == "(")
                continue; // inside a statement, or the parenthesis of (SELECT ...)
            else if (!KeepsSchema.Contains(token.Text))
                return true;
            else if (singleStatement)
                return false; // a Parse holds one statement: the rest cannot start another
            else
                statementStart = false;
        }
        return false;
    }
}
