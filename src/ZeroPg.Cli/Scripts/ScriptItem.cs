namespace ZeroPg.Cli.Scripts;

/// <summary>
/// One piece of a psql script, in file order. The <see cref="Raw"/> texts of all items, concatenated,
/// are the input exactly, so a filter can pass through what it does not change.
/// </summary>
internal abstract record ScriptItem(int Line, string Raw);

/// <summary>
/// An SQL statement with the comments and blank lines before it. <see cref="Line"/> is the line of
/// its first token (what an error message names). <see cref="Words"/> are its first unquoted words
/// outside parentheses, upper-cased, for classifying it without parsing it again.
/// </summary>
internal sealed record ScriptStatement(int Line, string Raw, int SqlStart, IReadOnlyList<string> Words, bool Terminated, bool IsCopyFromStdin)
    : ScriptItem(Line, Raw)
{
    /// <summary>The statement without the comments and whitespace before it.</summary>
    public string Sql => Raw[SqlStart..];

    public bool StartsWith(params string[] words)
    {
        if (Words.Count < words.Length)
            return false;
        for (var i = 0; i < words.Length; i++)
        {
            if (!string.Equals(Words[i], words[i], StringComparison.Ordinal))
                return false;
        }
        return true;
    }
}

/// <summary>A psql backslash command (<c>\connect</c>, <c>\restrict</c>, ...), the whole line.</summary>
internal sealed record ScriptMetaCommand(int Line, string Raw, string Name, IReadOnlyList<string> Arguments) : ScriptItem(Line, Raw);

/// <summary>
/// Rows of a <c>COPY ... FROM stdin</c> block, whole lines, in parts of bounded size;
/// <see cref="Line"/> is the line of the first row in this part.
/// </summary>
internal sealed record ScriptCopyData(int Line, string Raw, int Rows) : ScriptItem(Line, Raw);

/// <summary>The <c>\.</c> line that ends a COPY block.</summary>
internal sealed record ScriptCopyEnd(int Line, string Raw) : ScriptItem(Line, Raw);

/// <summary>Whitespace and comments after the last statement.</summary>
internal sealed record ScriptTrailer(int Line, string Raw) : ScriptItem(Line, Raw);

/// <summary>The script cannot be read on (a COPY block without its end, ...): the file line and why.</summary>
internal sealed class ScriptFormatException(int line, string message) : Exception($"line {line}: {message}")
{
    public int Line { get; } = line;

    public string Reason { get; } = message;
}
