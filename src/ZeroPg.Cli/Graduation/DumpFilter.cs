using ZeroPg.Cli.Scripts;
using ZeroPg.Sql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// Passes pg_dump 18's output through, statement by statement, rewriting what has an exact form in
/// an older target version and inserting the roles script after the SET preamble. COPY data and
/// everything it does not change are written as they came.
/// </summary>
/// <remarks>
/// Rewrites for a target before 17: <c>SET transaction_timeout</c> (a 17 setting) is dropped, and the
/// MAINTAIN privilege (17) is taken out of GRANT/REVOKE lists (it does not exist there; VACUUM,
/// ANALYZE and the like stay with the owner). What has no older form is refused before the dump
/// starts (<see cref="TargetCompatibility"/>).
/// </remarks>
internal sealed class DumpFilter(int targetMajor, string? prelude, Action<string> warn)
{
    private bool _preludeWritten = prelude is null;
    private int _maintainGrants;

    public void Copy(TextReader input, TextWriter output)
    {
        var reader = new ScriptReader(input);
        while (reader.Next() is { } item)
        {
            if (item is not ScriptStatement statement)
            {
                output.Write(item.Raw);
                continue;
            }
            if (!_preludeWritten && !IsPreamble(statement))
            {
                output.Write("\n");
                output.Write(prelude);
                _preludeWritten = true;
            }
            if (statement.StartsWith("SET", "STANDARD_CONFORMING_STRINGS"))
                reader.StandardConformingStrings = !statement.Sql.Contains("off", StringComparison.OrdinalIgnoreCase);
            output.Write(Rewrite(statement));
        }
        if (_maintainGrants > 0)
            warn($"{_maintainGrants} GRANT/REVOKE statement(s) lost the MAINTAIN privilege, which PostgreSQL {targetMajor} does not have (17+)");
    }

    private static bool IsPreamble(ScriptStatement statement)
        => statement.StartsWith("SET") || statement.StartsWith("SELECT", "PG_CATALOG", "SET_CONFIG");

    private string Rewrite(ScriptStatement statement)
    {
        if (targetMajor >= 17)
            return statement.Raw;
        if (statement.StartsWith("SET", "TRANSACTION_TIMEOUT"))
            return statement.Raw[..statement.SqlStart];
        if (statement.Words.Contains("MAINTAIN") && (statement.StartsWith("GRANT") || statement.StartsWith("REVOKE") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES")))
            return WithoutMaintain(statement);
        return statement.Raw;
    }

    private string WithoutMaintain(ScriptStatement statement)
    {
        var sql = statement.Sql;
        if (PrivilegeList(new StatementTokens(sql)) is not { } list)
            return statement.Raw;
        var privileges = list.Privileges.Where(p => !p.Equals("MAINTAIN", StringComparison.OrdinalIgnoreCase)).ToList();
        _maintainGrants++;
        if (privileges.Count == 0)
            return statement.Raw[..statement.SqlStart] + "-- (a grant of MAINTAIN only, which this PostgreSQL version lacks)\n";
        return statement.Raw[..statement.SqlStart] + sql[..list.Start] + string.Join(",", privileges) + sql[list.End..];
    }

    /// <summary>
    /// The privileges of the first <c>GRANT|REVOKE [GRANT OPTION FOR] privilege[(columns)], ... ON</c>, each as written,
    /// and where their list starts and ends in the SQL; null when the statement has no such list.
    /// </summary>
    private static (List<string> Privileges, int Start, int End)? PrivilegeList(StatementTokens tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (!tokens.AreWords(i, "GRANT") && !tokens.AreWords(i, "REVOKE"))
                continue;
            var at = tokens.AreWords(i + 1, "GRANT", "OPTION", "FOR") ? i + 4 : i + 1;
            var privileges = new List<string>();
            var start = at < tokens.Count ? tokens[at].Start : -1;
            while (at < tokens.Count && tokens[at].Kind == SqlTokenKind.Word && tokens[at].Span(tokens.Sql).ContainsAnyExcept(Letters) is false)
            {
                var first = tokens[at];
                var last = first;
                at++;
                if (at < tokens.Count && tokens[at].IsPunct(tokens.Sql, '('))
                {
                    while (at < tokens.Count && !tokens[at].IsPunct(tokens.Sql, ')'))
                        at++;
                    if (at >= tokens.Count)
                        break;
                    last = tokens[at++];
                }
                privileges.Add(tokens.Sql[first.Start..last.End]);
                if (tokens.AreWords(at, "ON"))
                    return (privileges, start, last.End);
                if (at >= tokens.Count || !tokens[at].IsPunct(tokens.Sql, ','))
                    break;
                at++;
            }
        }
        return null;
    }

    private static readonly System.Buffers.SearchValues<char> Letters = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}
