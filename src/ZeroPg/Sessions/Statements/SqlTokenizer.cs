namespace ZeroPg.Sessions.Statements;

internal enum SqlTokenKind : byte { Word, Number, String, QuotedIdentifier, DollarString, Operator, Punct }

/// <summary>One token of SQL text, by position (no copy).</summary>
internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length)
{
    public string Text(string sql) => sql.Substring(Start, Length);

    public string Upper(string sql) => sql.Substring(Start, Length).ToUpperInvariant();

    public bool IsPunct(string sql, char c) => Kind == SqlTokenKind.Punct && sql[Start] == c;

    public bool IsSign(string sql) => Kind == SqlTokenKind.Operator && Length == 1 && sql[Start] is '+' or '-';
}

/// <summary>
/// Splits SQL into tokens the way Postgres's lexer does for what <see cref="AutoParameterizer"/> needs:
/// numbers, operators (with the rule that drops a trailing + or - from a multi-character operator),
/// words, quotes, dollar quotes and punctuation. It refuses (returns false) what it cannot be sure of:
/// block comments, escape strings (E'...'), backslashes in strings and $n parameters.
/// </summary>
internal static class SqlTokenizer
{
    private const string OperatorChars = "+-*/<>=~!@#%^&|`?";
    private const int MaxIdentifierBytes = 63; // NAMEDATALEN - 1

    public static bool TryTokenize(string sql, List<SqlToken> tokens)
    {
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '-' && next == '-')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && next == '*')
            {
                return false; // block comments nest in Postgres; not worth getting right here
            }
            else if (c is '\'' or '"')
            {
                if (c == '\'' && i > 0 && (char.IsLetterOrDigit(sql[i - 1]) || sql[i - 1] is '_' or '&'))
                    return false; // E'..', U&'..', B'..', X'..': prefixed strings with their own escapes
                var end = i + 1;
                while (end < sql.Length && (sql[end] != c || (end + 1 < sql.Length && sql[end + 1] == c && ++end > 0)))
                {
                    if (sql[end] == '\\' && c == '\'')
                        return false; // meaning depends on standard_conforming_strings
                    end++;
                }
                if (end >= sql.Length)
                    return false; // unterminated
                if (c == '"' && System.Text.Encoding.UTF8.GetByteCount(sql.AsSpan(i + 1, end - i - 1)) > MaxIdentifierBytes)
                    return false;
                tokens.Add(new SqlToken(c == '"' ? SqlTokenKind.QuotedIdentifier : SqlTokenKind.String, i, end + 1 - i));
                i = end + 1;
            }
            else if (c == '$')
            {
                if (char.IsDigit(next) || !TryDollarQuote(sql, i, out var end))
                    return false;
                tokens.Add(new SqlToken(SqlTokenKind.DollarString, i, end - i));
                i = end;
            }
            else if (char.IsLetter(c) || c == '_' || c > 127)
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$' || sql[i] > 127))
                    i++;
                if (System.Text.Encoding.UTF8.GetByteCount(sql.AsSpan(start, i - start)) > MaxIdentifierBytes)
                    return false; // Postgres truncates it with a NOTICE, sent only when the statement is parsed
                tokens.Add(new SqlToken(SqlTokenKind.Word, start, i - start));
            }
            else if (char.IsAsciiDigit(c))
            {
                i = ReadNumber(sql, i, tokens);
            }
            else if (OperatorChars.Contains(c))
            {
                i = ReadOperator(sql, i, tokens);
            }
            else
            {
                tokens.Add(new SqlToken(SqlTokenKind.Punct, i, 1));
                i++;
            }
        }
        return true;
    }

    /// <summary>Digits, optionally a dot and digits. Anything else touching it (1e5, 1e-3, 0x1F, 1_000, 1.) makes it a word, never replaced.</summary>
    private static int ReadNumber(string sql, int start, List<SqlToken> tokens)
    {
        var i = start;
        while (i < sql.Length && char.IsAsciiDigit(sql[i]))
            i++;
        if (i + 1 < sql.Length && sql[i] == '.' && char.IsAsciiDigit(sql[i + 1]))
        {
            i++;
            while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                i++;
        }
        var exponent = i + 1 < sql.Length && (sql[i] is 'e' or 'E')
            && (char.IsAsciiDigit(sql[i + 1]) || (sql[i + 1] is '+' or '-' && i + 2 < sql.Length && char.IsAsciiDigit(sql[i + 2])));
        if (exponent)
            i += 2; // 1e-3: a float, never replaced; the digits after the sign are eaten below
        if (exponent || (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '.' or '$' || sql[i] > 127)))
        {
            while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '.' or '$' || sql[i] > 127))
                i++;
            tokens.Add(new SqlToken(SqlTokenKind.Word, start, i - start));
            return i;
        }
        tokens.Add(new SqlToken(SqlTokenKind.Number, start, i - start));
        return i;
    }

    private static int ReadOperator(string sql, int start, List<SqlToken> tokens)
    {
        var end = start;
        while (end < sql.Length && OperatorChars.Contains(sql[end]))
        {
            if (end > start && end + 1 < sql.Length && (sql[end], sql[end + 1]) is ('-', '-') or ('/', '*'))
                break; // a comment starts inside the run
            end++;
        }
        // Postgres: a multi-character operator cannot end in + or - unless it holds one of ~!@#%^&|`?
        var length = end - start;
        if (length > 1 && sql.AsSpan(start, length).IndexOfAny("~!@#%^&|`?") < 0)
        {
            while (length > 1 && sql[start + length - 1] is '+' or '-')
                length--;
        }
        tokens.Add(new SqlToken(SqlTokenKind.Operator, start, length));
        return start + length;
    }

    private static bool TryDollarQuote(string sql, int start, out int end)
    {
        end = start + 1;
        while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
            end++;
        if (end >= sql.Length || sql[end] != '$')
            return false;
        var tag = sql[start..(end + 1)];
        var close = sql.IndexOf(tag, end + 1, StringComparison.Ordinal);
        if (close < 0)
            return false;
        end = close + tag.Length;
        return true;
    }
}
