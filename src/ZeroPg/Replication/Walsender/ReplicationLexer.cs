using System.Text;

namespace ZeroPg.Replication.Walsender;

/// <summary>The walsender command lexer (repl_scanner.l): identifiers downcased unless double-quoted,
/// 'strings' with '' escapes, integers, hex/hex WAL positions, ( ) , . ;</summary>
internal static class ReplicationLexer
{
    public static List<ReplicationToken> Tokenize(string text)
    {
        var tokens = new List<ReplicationToken>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) break;
            var c = text[i];
            switch (c)
            {
                case '(': tokens.Add(new(ReplicationTokenKind.LeftParen, "(")); i++; continue;
                case ')': tokens.Add(new(ReplicationTokenKind.RightParen, ")")); i++; continue;
                case ',': tokens.Add(new(ReplicationTokenKind.Comma, ",")); i++; continue;
                case '.': tokens.Add(new(ReplicationTokenKind.Dot, ".")); i++; continue;
                case ';': tokens.Add(new(ReplicationTokenKind.Semicolon, ";")); i++; continue;
                case '\'': tokens.Add(new(ReplicationTokenKind.String, Quoted(text, ref i, '\''))); continue;
                case '"':
                    var ident = Quoted(text, ref i, '"');
                    if (ident.Length == 0) throw ReplicationSyntaxError.Create("zero-length delimited identifier");
                    tokens.Add(new(ReplicationTokenKind.QuotedIdentifier, ident));
                    continue;
            }
            if (IsHex(c))
            {
                // A WAL position (hex/hex) or an integer; a word that starts with a hex letter is an identifier.
                var start = i;
                while (i < text.Length && IsHex(text[i])) i++;
                if (i < text.Length && text[i] == '/')
                {
                    i++;
                    var loStart = i;
                    while (i < text.Length && IsHex(text[i])) i++;
                    var lsnText = text[start..i];
                    if (i == loStart || !Lsn.TryParse(lsnText, out _))
                        throw ReplicationSyntaxError.Create("invalid streaming start location");
                    tokens.Add(new(ReplicationTokenKind.Lsn, lsnText));
                    continue;
                }
                if (text[start..i].All(char.IsAsciiDigit) && (i >= text.Length || !IsIdentContinue(text[i])))
                {
                    tokens.Add(new(ReplicationTokenKind.Number, text[start..i]));
                    continue;
                }
                i = start;
            }
            if (IsIdentStart(c))
            {
                var start = i;
                while (i < text.Length && IsIdentContinue(text[i])) i++;
                tokens.Add(new(ReplicationTokenKind.Word, text[start..i].ToLowerInvariant()));
                continue;
            }
            throw ReplicationSyntaxError.Create("syntax error");
        }
        tokens.Add(new(ReplicationTokenKind.End, ""));
        return tokens;
    }

    private static string Quoted(string text, ref int i, char quote)
    {
        var sb = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length)
                throw ReplicationSyntaxError.Create(quote == '"' ? "unterminated quoted identifier" : "unterminated quoted string");
            if (text[i] == quote)
            {
                if (i + 1 < text.Length && text[i + 1] == quote) { sb.Append(quote); i += 2; continue; }
                i++;
                return sb.ToString();
            }
            sb.Append(text[i++]);
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= 0x80;
    private static bool IsIdentContinue(char c) => IsIdentStart(c) || char.IsAsciiDigit(c) || c == '$';
}
