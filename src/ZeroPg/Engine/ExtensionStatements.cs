using System.Text.RegularExpressions;

namespace ZeroPg.Engine;

/// <summary>
/// Finds the extensions a piece of SQL may create or update: CREATE EXTENSION [IF NOT EXISTS] x and
/// ALTER EXTENSION x, anywhere in the text, DO blocks and function bodies included. A false positive only
/// loads an extension's files a little early, so the search is deliberately loose.
/// </summary>
internal static partial class ExtensionStatements
{
    public static void Find(string sql, ICollection<string> into)
    {
        if (sql.IndexOf("EXTENSION", StringComparison.OrdinalIgnoreCase) < 0)
            return;
        foreach (Match match in Statement().Matches(LineComment().Replace(sql, "")))
        {
            var name = Name(match.Groups["name"].Value);
            if (name.Length > 0 && !into.Contains(name))
                into.Add(name);
        }
    }

    public static List<string> Find(string sql)
    {
        var names = new List<string>();
        Find(sql, names);
        return names;
    }

    /// <summary>An identifier as Postgres resolves it: quoted as written, unquoted folded to lower case.</summary>
    internal static string Name(string identifier)
        => identifier.StartsWith('"') ? identifier[1..^1].Replace("\"\"", "\"") : identifier.ToLowerInvariant();

    [GeneratedRegex("""\b(?:CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?|ALTER\s+EXTENSION\s+)(?<name>"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)""",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Statement();

    [GeneratedRegex("--[^\n]*")]
    private static partial Regex LineComment();
}
