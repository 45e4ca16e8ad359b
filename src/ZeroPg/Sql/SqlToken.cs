namespace ZeroPg.Sql;

internal enum SqlTokenKind : byte
{
    /// <summary>A keyword or an unquoted identifier (also a number run into letters: 1e5, 0x1F, 1_000).</summary>
    Word,
    /// <summary>Digits, optionally a dot and digits.</summary>
    Number,
    /// <summary>'...' (with its prefix's rules when it has one: E'...').</summary>
    String,
    QuotedIdentifier,
    DollarString,
    /// <summary>A run of operator characters, as Postgres cuts it.</summary>
    Operator,
    /// <summary>$1, $2, ...</summary>
    Parameter,
    /// <summary>Any other single character: ( ) , ; . : [ ] and the rest.</summary>
    Punct,
    /// <summary>A WAL position, hex/hex (<see cref="SqlLexMode.Replication"/> only).</summary>
    Lsn,
}

/// <summary>One token of SQL text, by position (no copy).</summary>
internal readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length)
{
    public int End => Start + Length;

    public string Text(string sql) => sql.Substring(Start, Length);

    public string Upper(string sql) => sql.Substring(Start, Length).ToUpperInvariant();

    public ReadOnlySpan<char> Span(string sql) => sql.AsSpan(Start, Length);

    /// <summary>True for the word <paramref name="upper"/> (given in upper case), whatever its case in the text.</summary>
    public bool IsWord(string sql, string upper)
        => Kind == SqlTokenKind.Word && Length == upper.Length && sql.AsSpan(Start, Length).Equals(upper, StringComparison.OrdinalIgnoreCase);

    public bool IsPunct(string sql, char c) => Kind == SqlTokenKind.Punct && sql[Start] == c;

    public bool IsOperator(string sql, char c) => Kind == SqlTokenKind.Operator && Length == 1 && sql[Start] == c;

    public bool IsSign(string sql) => Kind == SqlTokenKind.Operator && Length == 1 && sql[Start] is '+' or '-';
}
