namespace ZeroPg.Sessions;

/// <summary>Just enough SQL lexing to recognise the statements the session must treat specially.</summary>
internal static class SqlText
{
    /// <summary>A lexical token: an upper-cased word, a quoted identifier ("\""), a literal ("'"), or one punctuation character.</summary>
    public readonly record struct Token(string Text, int Start, int Length);

    /// <summary>The upper-cased words of <paramref name="sql"/> outside comments, quotes and dollar quotes.</summary>
    public static IEnumerable<string> Words(string sql) => Tokens(sql).Select(t => t.Text);

    public static IEnumerable<Token> Tokens(string sql)
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
                var start = i;
                var end = i + 1;
                while (end < sql.Length && (sql[end] != c || (end + 1 < sql.Length && sql[end + 1] == c && ++end > 0)))
                    end++;
                i = Math.Min(end + 1, sql.Length);
                yield return new Token(c == '"' ? "\"" : "'", start, i - start);
            }
            else if (c == '$' && TryDollarTag(sql, i, out var tag))
            {
                var start = i;
                var end = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + tag.Length;
                yield return new Token("$", start, i - start);
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                    i++;
                yield return new Token(sql[start..i].ToUpperInvariant(), start, i - start);
            }
            else
            {
                i++;
                yield return new Token(c.ToString(), i - 1, 1);
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

    /// <summary>True when <paramref name="sql"/> holds DISCARD ALL or DEALLOCATE [PREPARE] ALL, which drop every prepared statement of the session.</summary>
    public static bool DeallocatesAll(string sql)
    {
        string previous = "", beforePrevious = "";
        foreach (var word in Words(sql))
        {
            if (word == "ALL" && (previous is "DISCARD" or "DEALLOCATE" || (previous == "PREPARE" && beforePrevious == "DEALLOCATE")))
                return true;
            beforePrevious = previous;
            previous = word;
        }
        return false;
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

    /// <summary><see cref="DeallocatesAll(string)"/> for UTF-8 text; decodes only text that contains "all".</summary>
    public static bool DeallocatesAll(ReadOnlySpan<byte> sql)
        => ContainsAllIgnoringCase(sql) && DeallocatesAll(System.Text.Encoding.UTF8.GetString(sql));

    private static bool ContainsAllIgnoringCase(ReadOnlySpan<byte> sql)
    {
        for (var i = 0; i + 2 < sql.Length; i++)
        {
            if ((sql[i] | 0x20) == 'a' && (sql[i + 1] | 0x20) == 'l' && (sql[i + 2] | 0x20) == 'l')
                return true;
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
