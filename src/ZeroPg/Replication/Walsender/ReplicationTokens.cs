using ZeroPg.Sql;

namespace ZeroPg.Replication.Walsender;

/// <summary>
/// A walsender command's tokens as repl_gram.y takes them: cut by the one SQL lexer in its replication mode, then
/// decoded (unquoted words downcased, quotes removed, '' and "" undoubled). What repl_scanner.l has no token for
/// (operators, dollar quotes, parameters) is a syntax error.
/// </summary>
internal static class ReplicationTokens
{
    public static List<ReplicationToken> Read(string text)
    {
        var cut = new List<SqlToken>();
        SqlLexer.Lex(text, cut, SqlLexMode.Replication);
        var tokens = new List<ReplicationToken>(cut.Count + 1);
        foreach (var token in cut)
            tokens.Add(Decode(text, token));
        tokens.Add(new(ReplicationTokenKind.End, ""));
        return tokens;
    }

    private static ReplicationToken Decode(string text, SqlToken token)
    {
        var span = token.Span(text);
        switch (token.Kind)
        {
            case SqlTokenKind.Word when !char.IsAsciiDigit(span[0]): // 1abc: a number run into letters has no token here
                return new(ReplicationTokenKind.Word, span.ToString().ToLowerInvariant());
            case SqlTokenKind.Number when !span.Contains('.'):
                return new(ReplicationTokenKind.Number, span.ToString());
            case SqlTokenKind.Lsn:
                return Lsn.TryParse(span.ToString(), out _)
                    ? new(ReplicationTokenKind.Lsn, span.ToString())
                    : throw ReplicationSyntaxError.Create("invalid streaming start location");
            case SqlTokenKind.String:
                return new(ReplicationTokenKind.String, Unquote(span, '\'', "unterminated quoted string"));
            case SqlTokenKind.QuotedIdentifier:
                var identifier = Unquote(span, '"', "unterminated quoted identifier");
                return identifier.Length > 0
                    ? new(ReplicationTokenKind.QuotedIdentifier, identifier)
                    : throw ReplicationSyntaxError.Create("zero-length delimited identifier");
            case SqlTokenKind.Punct:
                return span[0] switch
                {
                    '(' => new(ReplicationTokenKind.LeftParen, "("),
                    ')' => new(ReplicationTokenKind.RightParen, ")"),
                    ',' => new(ReplicationTokenKind.Comma, ","),
                    '.' => new(ReplicationTokenKind.Dot, "."),
                    ';' => new(ReplicationTokenKind.Semicolon, ";"),
                    _ => throw ReplicationSyntaxError.Create("syntax error"),
                };
            default:
                throw ReplicationSyntaxError.Create("syntax error");
        }
    }

    /// <summary>The text inside the quotes, doubled quotes undoubled; the lexer ends a quote that never closes at the text's end.</summary>
    private static string Unquote(ReadOnlySpan<char> quoted, char quote, string unterminated)
    {
        var inner = quoted[1..];
        if (inner.Length == 0 || inner[^1] != quote || EndsInsideDoubledQuote(inner[..^1], quote))
            throw ReplicationSyntaxError.Create(unterminated);
        return inner[..^1].ToString().Replace(new string(quote, 2), quote.ToString(), StringComparison.Ordinal);
    }

    /// <summary>'abc''' is closed; 'abc'' is not: an odd run of quotes before the last one means the last is doubled.</summary>
    private static bool EndsInsideDoubledQuote(ReadOnlySpan<char> body, char quote)
    {
        var run = 0;
        for (var i = body.Length - 1; i >= 0 && body[i] == quote; i--)
            run++;
        return run % 2 == 1;
    }
}
