namespace ZeroPg.Sessions;

/// <summary>Just enough SQL lexing to recognise the statements the session must treat specially.</summary>
internal static class SqlText
{
    /// <summary>The upper-cased words of <paramref name="sql"/> outside comments, quotes and dollar quotes.</summary>
    public static IEnumerable<string> Words(string sql)
    {
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 2;
            }
            else if (c is '\'' or '"')
            {
                var end = i + 1;
                while (end < sql.Length && sql[end] != c)
                    end++;
                i = end + 1;
                yield return c == '"' ? "\"" : "'";
            }
            else if (c == '$' && TryDollarTag(sql, i, out var tag))
            {
                var end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + tag.Length;
                yield return "$";
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                    i++;
                yield return sql[start..i].ToUpperInvariant();
            }
            else
            {
                i++;
                yield return c.ToString();
            }
        }
    }

    private static bool TryDollarTag(string sql, int start, out string tag)
    {
        var end = start + 1;
        while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
            end++;
        tag = end < sql.Length && sql[end] == '$' ? sql[start..(end + 1)] : "";
        return tag.Length > 0 && !char.IsDigit(tag[1 % tag.Length]);
    }

    /// <summary>True when a statement after the first of <paramref name="sql"/> is a COPY ... FROM STDIN.</summary>
    public static bool HasCopyFromStdinAfterFirstStatement(string sql)
    {
        var statement = 0;
        var first = "";
        var previous = "";
        foreach (var word in Words(sql))
        {
            if (word == ";")
            {
                statement++;
                first = previous = "";
                continue;
            }
            if (first.Length == 0)
                first = word;
            else if (statement > 0 && first == "COPY" && previous == "FROM" && word == "STDIN")
                return true;
            previous = word;
        }
        return false;
    }

    /// <summary>True for COPY ... FROM STDIN (the data then comes from the client).</summary>
    public static bool IsCopyFromStdin(string sql)
    {
        using var words = Words(sql).GetEnumerator();
        if (!words.MoveNext() || words.Current != "COPY")
            return false;
        var previous = "";
        while (words.MoveNext())
        {
            if (words.Current == ";")
                return false;
            if (previous == "FROM" && words.Current == "STDIN")
                return true;
            previous = words.Current;
        }
        return false;
    }
}
