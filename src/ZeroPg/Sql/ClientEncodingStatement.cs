namespace ZeroPg.Sql;

internal enum ClientEncodingCommandKind
{
    Set,
    Reset,
    Show,
}

/// <summary>
/// SET client_encoding / SET NAMES / RESET client_encoding / SHOW client_encoding as the whole of a query: ZeroPg answers
/// these itself, because the engine always speaks UTF8 and ZeroPg converts for the client (Sessions/ClientEncoding).
/// <see cref="Value"/> is null for DEFAULT (and for RESET and SHOW).
/// </summary>
internal sealed record ClientEncodingStatement(ClientEncodingCommandKind Kind, string? Value)
{
    private const string Name = "CLIENT_ENCODING";

    public static ClientEncodingStatement? Find(SqlAnalysis analysis)
    {
        (int Start, int End)? only = null;
        foreach (var statement in analysis.Statements)
        {
            if (statement.End <= statement.Start)
                continue; // an empty statement
            if (only is not null)
                return null;
            only = statement;
        }
        if (only is not { } found)
            return null;
        var (start, end) = found;
        var sql = analysis.Sql;
        var tokens = analysis.Tokens;
        bool Word(int i, string upper) => i < end && tokens[i].IsWord(sql, upper);
        if (Word(start, "SHOW") && end - start == 2 && Word(start + 1, Name))
            return new(ClientEncodingCommandKind.Show, null);
        if (Word(start, "RESET") && end - start == 2 && Word(start + 1, Name))
            return new(ClientEncodingCommandKind.Reset, null);
        if (!Word(start, "SET"))
            return null;
        var i = start + 1;
        if (Word(i, "SESSION") || Word(i, "LOCAL"))
            i++;
        if (Word(i, "NAMES"))
        {
            i++;
        }
        else if (Word(i, Name))
        {
            i++;
            if (i < end && (tokens[i].IsWord(sql, "TO") || tokens[i].IsOperator(sql, '=')))
                i++;
            else
                return null;
        }
        else
        {
            return null;
        }
        if (i != end - 1)
            return null; // no value, or a list: the engine says what is wrong
        var value = tokens[i];
        if (value.IsWord(sql, "DEFAULT"))
            return new(ClientEncodingCommandKind.Set, null);
        return value.Kind switch
        {
            SqlTokenKind.Word => new(ClientEncodingCommandKind.Set, value.Text(sql)),
            SqlTokenKind.QuotedIdentifier => new(ClientEncodingCommandKind.Set, value.Text(sql)[1..^1].Replace("\"\"", "\"")),
            SqlTokenKind.String when sql[value.Start] == '\'' => new(ClientEncodingCommandKind.Set, value.Text(sql)[1..^1].Replace("''", "'")),
            _ => null,
        };
    }
}
