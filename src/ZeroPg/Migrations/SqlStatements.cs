using ZeroPg.Sql;

namespace ZeroPg.Migrations;

/// <summary>Splits a script into statements (';' outside quotes, dollar quotes and comments) with their positions, to name the one that failed.</summary>
internal static class SqlStatements
{
    public readonly record struct Statement(int Start, int End, int Line, string Text);

    public static List<Statement> Split(string sql)
    {
        var statements = new List<Statement>();
        var start = -1;
        foreach (var token in Tokens(sql))
        {
            if (token.IsPunct(sql, ';'))
            {
                if (start >= 0)
                    statements.Add(Make(sql, start, token.Start + 1));
                start = -1;
            }
            else if (start < 0)
            {
                start = token.Start;
            }
        }
        if (start >= 0)
            statements.Add(Make(sql, start, sql.Length));
        return statements;
    }

    /// <summary>The statement holding 1-based character <paramref name="position"/> (Postgres's error position).</summary>
    public static Statement? At(string sql, int position)
        => Split(sql).Cast<Statement?>().FirstOrDefault(s => s!.Value.Start < position && position <= s.Value.End);

    /// <summary>True when the script controls its own transactions (then it cannot be replayed statement by statement safely).</summary>
    public static bool ControlsTransactions(string sql)
        => Words(sql).Any(w => w is "BEGIN" or "COMMIT" or "ROLLBACK" or "START" or "SAVEPOINT")
           && Split(sql).Any(s => Words(s.Text).FirstOrDefault() is "BEGIN" or "COMMIT" or "ROLLBACK" or "START" or "END");

    /// <summary>
    /// What Postgres refuses inside a transaction block (25001, PreventInTransactionBlock): CREATE/DROP INDEX CONCURRENTLY,
    /// REINDEX ... CONCURRENTLY, DETACH PARTITION ... CONCURRENTLY, VACUUM, CREATE/DROP DATABASE and TABLESPACE, ALTER SYSTEM;
    /// and ALTER TYPE ... ADD VALUE, which servers before 12 refused there and which, run in one, leaves the new value
    /// unusable until commit (55P04): Flyway and the migration tools run these outside a transaction. Returns the
    /// statement's leading words (for a message) or null.
    /// </summary>
    public const string AddEnumValue = "ALTER TYPE ... ADD VALUE";

    public static string? MustRunOutsideTransaction(string statement)
    {
        var words = Words(statement).Take(12).ToList();
        if (words.Count == 0)
            return null;
        bool Has(string word) => words.Contains(word, StringComparer.Ordinal);
        var first = words[0];
        var second = words.Count > 1 ? words[1] : "";
        var kind = first switch
        {
            "VACUUM" => "VACUUM",
            "CREATE" or "DROP" when second is "DATABASE" or "TABLESPACE" => $"{first} {second}",
            "CREATE" when Has("INDEX") && Has("CONCURRENTLY") => "CREATE INDEX CONCURRENTLY",
            "DROP" when second == "INDEX" && Has("CONCURRENTLY") => "DROP INDEX CONCURRENTLY",
            "REINDEX" when Has("CONCURRENTLY") || second is "DATABASE" or "SYSTEM" => "REINDEX " + (Has("CONCURRENTLY") ? "CONCURRENTLY" : second),
            "ALTER" when second == "SYSTEM" => "ALTER SYSTEM",
            "ALTER" when second == "TABLE" && Has("DETACH") && Has("CONCURRENTLY") => "DETACH PARTITION CONCURRENTLY",
            "ALTER" when second == "TYPE" && Has("ADD") && Has("VALUE") => AddEnumValue,
            _ => null,
        };
        return kind;
    }

    private static List<SqlToken> Tokens(string sql)
    {
        var tokens = new List<SqlToken>();
        SqlLexer.Lex(sql, tokens);
        return tokens;
    }

    private static IEnumerable<string> Words(string sql)
        => Tokens(sql).Where(t => t.Kind == SqlTokenKind.Word).Select(t => t.Upper(sql));

    private static Statement Make(string sql, int start, int end)
        => new(start, end, 1 + sql.AsSpan(0, start).Count('\n'), sql[start..end].Trim());
}
