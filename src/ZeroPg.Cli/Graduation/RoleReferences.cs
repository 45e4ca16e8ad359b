using ZeroPg.Cli.Scripts;
using ZeroPg.Sql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// The roles a dump statement names: <c>OWNER TO r</c>, <c>GRANT ... TO r, s</c>,
/// <c>REVOKE ... FROM r</c>, <c>FOR ROLE r</c>, <c>AUTHORIZATION r</c>, <c>CREATE POLICY ... TO r</c>.
/// A pg_dump file does not create them (they belong to the cluster), so restoring one from another
/// server fails on the first of them; `zeropg restore` creates the missing ones first.
/// </summary>
internal static class RoleReferences
{
    public static IEnumerable<string> Find(ScriptStatement statement)
    {
        var tokens = new StatementTokens(statement.Sql);
        var names = new List<string>();
        if (statement.StartsWith("ALTER") && statement.Words.Contains("OWNER"))
            First(tokens, names, i => tokens.AreWords(i, "OWNER", "TO") ? One(tokens, i + 2, names) : -1);
        if (statement.StartsWith("GRANT") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            First(tokens, names, i => GrantTo(tokens, i, names));
        if (statement.StartsWith("REVOKE") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            First(tokens, names, i => RevokeFrom(tokens, i, names));
        if (statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES"))
            First(tokens, names, i => tokens.AreWords(i, "FOR") && (tokens.AreWords(i + 1, "ROLE") || tokens.AreWords(i + 1, "USER")) ? tokens.NameList(i + 2, names) : -1);
        if (statement.StartsWith("CREATE", "SCHEMA"))
            First(tokens, names, i => tokens.AreWords(i, "AUTHORIZATION") ? One(tokens, i + 1, names) : -1);
        if (statement.StartsWith("CREATE", "POLICY") || statement.StartsWith("ALTER", "POLICY"))
            First(tokens, names, i => PolicyTo(tokens, i, names));
        foreach (var name in names)
        {
            if (name.StartsWith('"'))
            {
                yield return StatementTokens.Resolve(name);
                continue;
            }
            var lower = name.ToLowerInvariant();
            if (lower is not ("public" or "current_user" or "current_role" or "session_user" or "group"))
                yield return lower;
        }
    }

    /// <summary>Roles the statement creates: CREATE ROLE/USER/GROUP, or CREATE ROLE inside a DO block.</summary>
    public static IEnumerable<string> Created(ScriptStatement statement)
    {
        if (!(statement.StartsWith("CREATE") || statement.StartsWith("DO")))
            return [];
        var created = new List<string>();
        Created(new StatementTokens(statement.Sql), created);
        return created.Select(StatementTokens.Resolve);
    }

    private static void Created(StatementTokens tokens, List<string> created)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Kind is SqlTokenKind.DollarString or SqlTokenKind.String)
                Created(new StatementTokens(tokens.Inside(tokens[i])), created); // a DO block's body, or SQL it EXECUTEs
            else if (tokens.AreWords(i, "CREATE") && (tokens.AreWords(i + 1, "ROLE") || tokens.AreWords(i + 1, "USER") || tokens.AreWords(i + 1, "GROUP"))
                && tokens.NameAt(i + 2) is { } name)
                created.Add(name);
        }
    }

    /// <summary>The first place where <paramref name="match"/> reads names (it returns -1 where it does not; the names it read there are dropped).</summary>
    private static void First(StatementTokens tokens, List<string> names, Func<int, int> match)
    {
        var before = names.Count;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (match(i) >= 0)
                return;
            names.RemoveRange(before, names.Count - before);
        }
    }

    private static int One(StatementTokens tokens, int index, List<string> names)
    {
        if (tokens.NameAt(index) is not { } name)
            return -1;
        names.Add(name);
        return index + 1;
    }

    /// <summary>TO [GROUP] roles [WITH ... OPTION] [GRANTED BY role] at the statement's end.</summary>
    private static int GrantTo(StatementTokens tokens, int i, List<string> names)
    {
        if (!tokens.AreWords(i, "TO"))
            return -1;
        var end = Roles(tokens, i + 1, names);
        if (end >= 0 && tokens.AreWords(end, "WITH") && tokens[Math.Min(end + 1, tokens.Count - 1)].Kind == SqlTokenKind.Word && tokens.AreWords(end + 2, "OPTION"))
            end += 3;
        return AtEnd(tokens, GrantedBy(tokens, end));
    }

    /// <summary>FROM [GROUP] roles [GRANTED BY role] [CASCADE | RESTRICT] at the statement's end.</summary>
    private static int RevokeFrom(StatementTokens tokens, int i, List<string> names)
    {
        if (!tokens.AreWords(i, "FROM"))
            return -1;
        var end = GrantedBy(tokens, Roles(tokens, i + 1, names));
        if (end >= 0 && (tokens.AreWords(end, "CASCADE") || tokens.AreWords(end, "RESTRICT")))
            end++;
        return AtEnd(tokens, end);
    }

    /// <summary>A policy's TO roles, followed by USING, WITH CHECK or the statement's end.</summary>
    private static int PolicyTo(StatementTokens tokens, int i, List<string> names)
    {
        if (!tokens.AreWords(i, "TO"))
            return -1;
        var end = tokens.NameList(i + 1, names);
        return end >= 0 && (tokens.AreWords(end, "USING") || tokens.AreWords(end, "WITH", "CHECK") || tokens.IsEnd(end)) ? end : -1;
    }

    /// <summary>A list of roles after an optional GROUP (GROUP alone is a role's name there).</summary>
    private static int Roles(StatementTokens tokens, int i, List<string> names)
        => tokens.AreWords(i, "GROUP") && tokens.NameAt(i + 1) is not null ? tokens.NameList(i + 1, names) : tokens.NameList(i, names);

    private static int GrantedBy(StatementTokens tokens, int end)
        => end >= 0 && tokens.AreWords(end, "GRANTED", "BY") && tokens.NameAt(end + 2) is not null ? end + 3 : end;

    private static int AtEnd(StatementTokens tokens, int end) => end >= 0 && tokens.IsEnd(end) ? end : -1;
}
