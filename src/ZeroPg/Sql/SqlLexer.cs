using System.Text;

namespace ZeroPg.Sql;

/// <summary>What the lexer met that it cannot read with certainty; the tokens are still the best reading.</summary>
[Flags]
internal enum SqlDoubts : ushort
{
    None = 0,
    /// <summary>/* ... */ (skipped, nesting as Postgres does).</summary>
    BlockComment = 1,
    /// <summary>A string with a prefix and rules of its own: E'..', U&amp;'..', B'..', X'..'.</summary>
    PrefixedString = 2,
    /// <summary>A backslash in a standard string: its meaning depends on standard_conforming_strings.</summary>
    Backslash = 4,
    /// <summary>A string, identifier, dollar quote or comment that does not end.</summary>
    Unterminated = 8,
    /// <summary>$1: a parameter, which a simple Query cannot have.</summary>
    Parameter = 16,
    /// <summary>An identifier over 63 bytes: Postgres truncates it with a NOTICE when it parses the statement.</summary>
    LongIdentifier = 32,
    /// <summary>A lone $ that starts neither a dollar quote nor a parameter.</summary>
    StrayDollar = 64,
}

/// <summary>Which scanner of Postgres the lexer cuts like.</summary>
internal enum SqlLexMode : byte
{
    /// <summary>scan.l: SQL as the engine reads it.</summary>
    Sql,

    /// <summary>
    /// repl_scanner.l: a walsender command. The same tokens, plus WAL positions (<c>16/B374D848</c>, one
    /// <see cref="SqlTokenKind.Lsn"/>), and no comments (a walsender command has none: <c>--</c> is an operator).
    /// </summary>
    Replication,
}

/// <summary>
/// ZeroPg's one SQL lexer, cut the way Postgres's scanner cuts what ZeroPg needs to know: words,
/// numbers, strings, quoted identifiers, dollar quotes, operators (a multi-character operator does not
/// end in + or - unless it holds one of ~!@#%^&amp;|`?), parameters and punctuation; comments are
/// skipped. Whatever it cannot read with certainty is reported as <see cref="SqlDoubts"/> instead of a
/// second, stricter lexer: callers that need certainty (auto-prepare) refuse SQL with doubts.
/// </summary>
internal static class SqlLexer
{
    private const string OperatorChars = "+-*/<>=~!@#%^&|`?";
    private const int MaxIdentifierBytes = 63; // NAMEDATALEN - 1

    public static SqlDoubts Lex(string sql, List<SqlToken> tokens, SqlLexMode mode = SqlLexMode.Sql)
    {
        var doubts = SqlDoubts.None;
        var sqlMode = mode == SqlLexMode.Sql;
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : '\0';
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (!sqlMode && LsnEnd(sql, i) is > 0 and var lsnEnd)
            {
                tokens.Add(new SqlToken(SqlTokenKind.Lsn, i, lsnEnd - i));
                i = lsnEnd;
            }
            else if (sqlMode && c == '-' && next == '-')
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (sqlMode && c == '/' && next == '*')
            {
                doubts |= SqlDoubts.BlockComment;
                i = SkipBlockComment(sql, i, ref doubts);
            }
            else if (c == '\'')
            {
                i = ReadString(sql, i, tokens, ref doubts);
            }
            else if (c == '"')
            {
                var end = ClosingQuote(sql, i, '"', escapes: false);
                if (end >= sql.Length)
                    doubts |= SqlDoubts.Unterminated;
                else if (Encoding.UTF8.GetByteCount(sql.AsSpan(i + 1, end - i - 1)) > MaxIdentifierBytes)
                    doubts |= SqlDoubts.LongIdentifier;
                var after = Math.Min(end + 1, sql.Length);
                tokens.Add(new SqlToken(SqlTokenKind.QuotedIdentifier, i, after - i));
                i = after;
            }
            else if (c == '$')
            {
                i = ReadDollar(sql, i, tokens, ref doubts);
            }
            else if (char.IsLetter(c) || c == '_' || c > 127)
            {
                var start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$' || sql[i] > 127))
                    i++;
                if (i - start > MaxIdentifierBytes / 3 && Encoding.UTF8.GetByteCount(sql.AsSpan(start, i - start)) > MaxIdentifierBytes)
                    doubts |= SqlDoubts.LongIdentifier;
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
        return doubts;
    }

    /// <summary>
    /// The end of the WAL position at <paramref name="start"/> (hex digits, a slash, hex digits), or 0 when none starts
    /// there. A slash with no digit after it still ends one: the position is invalid, which its reader says.
    /// </summary>
    private static int LsnEnd(string sql, int start)
    {
        var i = start;
        while (i < sql.Length && char.IsAsciiHexDigit(sql[i]))
            i++;
        if (i == start || i >= sql.Length || sql[i] != '/')
            return 0;
        i++;
        while (i < sql.Length && char.IsAsciiHexDigit(sql[i]))
            i++;
        return i;
    }

    /// <summary>Index of the closing quote of the quoted text opening at <paramref name="open"/> (doubled quotes stay inside), or the text's length.</summary>
    private static int ClosingQuote(string sql, int open, char quote, bool escapes)
    {
        var end = open + 1;
        while (end < sql.Length)
        {
            if (escapes && sql[end] == '\\')
            {
                end += 2;
                continue;
            }
            if (sql[end] == quote)
            {
                if (end + 1 < sql.Length && sql[end + 1] == quote)
                {
                    end += 2;
                    continue;
                }
                return end;
            }
            end++;
        }
        return sql.Length;
    }

    private static int ReadString(string sql, int open, List<SqlToken> tokens, ref SqlDoubts doubts)
    {
        // A prefix touching the quote gives the string rules of its own (E'\n', U&'\0041', B'101', X'1F').
        var prefixed = open > 0 && (char.IsLetterOrDigit(sql[open - 1]) || sql[open - 1] is '_' or '&');
        var escapes = prefixed && sql[open - 1] is 'e' or 'E' && tokens.Count > 0 && tokens[^1].Kind == SqlTokenKind.Word
            && tokens[^1].Length == 1 && tokens[^1].End == open;
        if (prefixed)
            doubts |= SqlDoubts.PrefixedString;
        var end = ClosingQuote(sql, open, '\'', escapes);
        if (end >= sql.Length)
            doubts |= SqlDoubts.Unterminated;
        else if (!escapes && sql.AsSpan(open + 1, end - open - 1).Contains('\\'))
            doubts |= SqlDoubts.Backslash;
        var after = Math.Min(end + 1, sql.Length);
        tokens.Add(new SqlToken(SqlTokenKind.String, open, after - open));
        return after;
    }

    private static int ReadDollar(string sql, int start, List<SqlToken> tokens, ref SqlDoubts doubts)
    {
        var end = start + 1;
        if (end < sql.Length && char.IsAsciiDigit(sql[end]))
        {
            while (end < sql.Length && char.IsAsciiDigit(sql[end]))
                end++;
            doubts |= SqlDoubts.Parameter;
            tokens.Add(new SqlToken(SqlTokenKind.Parameter, start, end - start));
            return end;
        }
        while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
            end++;
        if (end >= sql.Length || sql[end] != '$')
        {
            doubts |= SqlDoubts.StrayDollar;
            tokens.Add(new SqlToken(SqlTokenKind.Punct, start, 1));
            return start + 1;
        }
        var tag = sql.AsSpan(start, end + 1 - start);
        var close = sql.AsSpan(end + 1).IndexOf(tag, StringComparison.Ordinal);
        var after = close < 0 ? sql.Length : end + 1 + close + tag.Length;
        if (close < 0)
            doubts |= SqlDoubts.Unterminated;
        tokens.Add(new SqlToken(SqlTokenKind.DollarString, start, after - start));
        return after;
    }

    /// <summary>Postgres block comments nest.</summary>
    private static int SkipBlockComment(string sql, int start, ref SqlDoubts doubts)
    {
        var depth = 0;
        var i = start;
        while (i + 1 < sql.Length)
        {
            if (sql[i] == '/' && sql[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && sql[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                    return i;
            }
            else
            {
                i++;
            }
        }
        doubts |= SqlDoubts.Unterminated;
        return sql.Length;
    }

    /// <summary>Digits, optionally a dot and digits. Anything else touching it (1e5, 1e-3, 0x1F, 1_000, 1.) makes it a word, never a number.</summary>
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
            i += 2; // 1e-3: a float; the digits after the sign are eaten below
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
}
