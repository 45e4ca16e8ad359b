using ZeroPg.Sql;

namespace ZeroPg.Cli.Scripts;

/// <summary>
/// A statement's SQL cut by ZeroPg's one lexer (<see cref="SqlLexer"/>, which the CLI reads through the server's
/// InternalsVisibleTo), with the few readings the restore needs: runs of keywords, names and lists of names. Words
/// inside strings, quoted identifiers and comments are never taken for keywords.
/// </summary>
internal sealed class StatementTokens
{
    private readonly List<SqlToken> _tokens = [];

    public StatementTokens(string sql)
    {
        Sql = sql;
        SqlLexer.Lex(sql, _tokens);
    }

    public string Sql { get; }

    public int Count => _tokens.Count;

    public SqlToken this[int index] => _tokens[index];

    /// <summary>True when the tokens from <paramref name="index"/> are the words <paramref name="upper"/> (upper case), in order.</summary>
    public bool AreWords(int index, params string[] upper)
    {
        if (index < 0 || index + upper.Length > _tokens.Count)
            return false;
        for (var i = 0; i < upper.Length; i++)
        {
            if (!_tokens[index + i].IsWord(Sql, upper[i]))
                return false;
        }
        return true;
    }

    /// <summary>The index after the first run of <paramref name="upper"/> at or after <paramref name="from"/>; -1 when there is none.</summary>
    public int After(int from, params string[] upper)
    {
        for (var i = Math.Max(from, 0); i + upper.Length <= _tokens.Count; i++)
        {
            if (AreWords(i, upper))
                return i + upper.Length;
        }
        return -1;
    }

    /// <summary>
    /// The name at <paramref name="index"/> as it is spelled (an identifier, or a quoted identifier with its quotes);
    /// null when the token is neither (a keyword is an identifier here: callers filter the ones they do not want).
    /// </summary>
    public string? NameAt(int index)
    {
        if (index < 0 || index >= _tokens.Count)
            return null;
        var token = _tokens[index];
        return token.Kind == SqlTokenKind.QuotedIdentifier && token.Length > 2 && Sql[token.End - 1] == '"'
            || token.Kind == SqlTokenKind.Word && (char.IsAsciiLetter(Sql[token.Start]) || Sql[token.Start] == '_')
            ? token.Text(Sql)
            : null;
    }

    /// <summary>Names separated by commas from <paramref name="index"/> (at least one); the index after the last, or -1.</summary>
    public int NameList(int index, List<string> names)
    {
        var start = names.Count;
        while (NameAt(index) is { } name)
        {
            names.Add(name);
            index++;
            if (index >= _tokens.Count || !_tokens[index].IsPunct(Sql, ','))
                return index;
            index++;
        }
        names.RemoveRange(start, names.Count - start);
        return -1;
    }

    /// <summary>True at the statement's end: no token left but an optional semicolon.</summary>
    public bool IsEnd(int index)
        => index >= _tokens.Count || index == _tokens.Count - 1 && _tokens[index].IsPunct(Sql, ';');

    /// <summary>A name as Postgres resolves it: a quoted one as written (quotes undoubled), any other folded to lower case.</summary>
    public static string Resolve(string name)
        => name.StartsWith('"') ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : name.ToLowerInvariant();

    /// <summary>The text inside a string or dollar-quoted token (its quotes or tags removed; doubled quotes kept doubled).</summary>
    public string Inside(SqlToken token)
    {
        var text = token.Span(Sql);
        if (token.Kind == SqlTokenKind.DollarString)
        {
            var tag = text[..(text[1..].IndexOf('$') + 2)];
            return text.Length >= 2 * tag.Length && text.EndsWith(tag) ? text[tag.Length..^tag.Length].ToString() : text[tag.Length..].ToString();
        }
        var open = text.IndexOf('\'');
        return text.Length - open >= 2 && text[^1] == '\'' ? text[(open + 1)..^1].ToString() : text[(open + 1)..].ToString();
    }
}
