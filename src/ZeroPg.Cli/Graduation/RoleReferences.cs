using System.Text.RegularExpressions;
using ZeroPg.Cli.Scripts;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// The roles a dump statement names: <c>OWNER TO r</c>, <c>GRANT ... TO r, s</c>,
/// <c>REVOKE ... FROM r</c>, <c>FOR ROLE r</c>, <c>AUTHORIZATION r</c>, <c>CREATE POLICY ... TO r</c>.
/// A pg_dump file does not create them (they belong to the cluster), so restoring one from another
/// server fails on the first of them; `zeropg restore` creates the missing ones first.
/// </summary>
internal static partial class RoleReferences
{
    private const string Role = @"(?:""(?:[^""]|"""")+""|[A-Za-z_][A-Za-z0-9_$]*)";
    private const string List = Role + @"(?:\s*,\s*" + Role + ")*";

    public static IEnumerable<string> Find(ScriptStatement statement)
    {
        var sql = statement.Sql;
        IEnumerable<Match> matches = [];
        if (statement.StartsWith("ALTER") && statement.Words.Contains("OWNER"))
            matches = matches.Append(OwnerTo().Match(sql));
        if (statement.StartsWith("GRANT") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            matches = matches.Append(GrantTo().Match(sql));
        if (statement.StartsWith("REVOKE") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            matches = matches.Append(RevokeFrom().Match(sql));
        if (statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            matches = matches.Append(ForRole().Match(sql));
        if (statement.StartsWith("CREATE", "SCHEMA"))
            matches = matches.Append(Authorization().Match(sql));
        if (statement.StartsWith("CREATE", "POLICY") || statement.StartsWith("ALTER", "POLICY"))
            matches = matches.Append(PolicyTo().Match(sql));
        foreach (var match in matches.Where(m => m.Success))
        {
            foreach (Match role in RoleName().Matches(match.Groups["roles"].Value))
            {
                var name = role.Value;
                if (name.StartsWith('"'))
                {
                    yield return name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal);
                    continue;
                }
                var lower = name.ToLowerInvariant();
                if (lower is not ("public" or "current_user" or "current_role" or "session_user" or "group"))
                    yield return lower;
            }
        }
    }

    /// <summary>Roles the statement creates: CREATE ROLE/USER/GROUP, or CREATE ROLE inside a DO block.</summary>
    public static IEnumerable<string> Created(ScriptStatement statement)
    {
        if (!(statement.StartsWith("CREATE") || statement.StartsWith("DO")))
            return [];
        return CreateRole().Matches(statement.Sql).Select(m => m.Groups["role"].Value)
            .Select(name => name.StartsWith('"') ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : name.ToLowerInvariant());
    }

    [GeneratedRegex(@"\bCREATE\s+(?:ROLE|USER|GROUP)\s+(?<role>" + Role + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CreateRole();

    [GeneratedRegex(@"\bOWNER\s+TO\s+(?<roles>" + Role + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OwnerTo();

    [GeneratedRegex(@"\bTO\s+(?:GROUP\s+)?(?<roles>" + List + @")(?:\s+WITH\s+\w+\s+OPTION)?(?:\s+GRANTED\s+BY\s+" + Role + @")?\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex GrantTo();

    [GeneratedRegex(@"\bFROM\s+(?:GROUP\s+)?(?<roles>" + List + @")(?:\s+GRANTED\s+BY\s+" + Role + @")?(?:\s+(?:CASCADE|RESTRICT))?\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RevokeFrom();

    [GeneratedRegex(@"\bFOR\s+(?:ROLE|USER)\s+(?<roles>" + List + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForRole();

    [GeneratedRegex(@"\bAUTHORIZATION\s+(?<roles>" + Role + ")", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Authorization();

    [GeneratedRegex(@"\bTO\s+(?<roles>" + List + @")(?=\s+(?:USING|WITH\s+CHECK)\b|\s*;?\s*$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PolicyTo();

    [GeneratedRegex(Role, RegexOptions.CultureInvariant)]
    private static partial Regex RoleName();
}
