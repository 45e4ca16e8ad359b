using System.Text.RegularExpressions;
using ZeroPg.Cli.Scripts;

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
internal sealed partial class DumpFilter(int targetMajor, string? prelude, Action<string> warn)
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
        var match = PrivilegeList().Match(sql);
        if (!match.Success)
            return statement.Raw;
        var privileges = match.Groups["list"].Value.Split(',').Select(p => p.Trim()).Where(p => !p.Equals("MAINTAIN", StringComparison.OrdinalIgnoreCase)).ToList();
        _maintainGrants++;
        if (privileges.Count == 0)
            return statement.Raw[..statement.SqlStart] + "-- (a grant of MAINTAIN only, which this PostgreSQL version lacks)\n";
        var list = match.Groups["list"];
        return statement.Raw[..statement.SqlStart] + sql[..list.Index] + string.Join(",", privileges) + sql[(list.Index + list.Length)..];
    }

    // GRANT|REVOKE [GRANT OPTION FOR] <privilege[(columns)]>, ... ON
    [GeneratedRegex(@"\b(?:GRANT|REVOKE)\s+(?:GRANT\s+OPTION\s+FOR\s+)?(?<list>[A-Za-z]+(?:\([^)]*\))?(?:\s*,\s*[A-Za-z]+(?:\([^)]*\))?)*)\s+ON\b", RegexOptions.CultureInvariant)]
    private static partial Regex PrivilegeList();
}
