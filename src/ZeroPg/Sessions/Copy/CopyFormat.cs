using ZeroPg.Sql;

namespace ZeroPg.Sessions.Copy;

internal enum CopyDataKind : byte
{
    Text,
    Csv,
    Binary,
}

/// <summary>
/// What ZeroPg must know of a COPY ... FROM STDIN to cut its data at row boundaries (<see cref="CopyRowCutter"/>):
/// the format, CSV's quote and escape bytes, and whether a header line comes first. Read from the statement's
/// options, new style (<c>WITH (FORMAT csv, HEADER, QUOTE '"')</c>) and old (<c>CSV HEADER QUOTE AS '"'</c>,
/// <c>BINARY</c>); a statement ZeroPg cannot read with certainty gets no format, and its data then reaches the
/// engine whole, in one COPY, as before pieces existed. Immutable.
/// </summary>
internal sealed record CopyFormat(CopyDataKind Kind, byte Quote, byte Escape, bool Header)
{
    /// <summary>
    /// The format of the COPY FROM STDIN that is statement 0 of <paramref name="sql"/>, checked against the engine's
    /// CopyInResponse (<paramref name="binaryResponse"/>: its overall format is binary); null when unsure.
    /// </summary>
    public static CopyFormat? Read(SqlAnalysis sql, bool binaryResponse)
    {
        if (!sql.IsWellFormed || sql.Statements.Count == 0)
            return null;
        for (var s = 1; s < sql.Statements.Count; s++)
        {
            if (sql.Statements[s].End > sql.Statements[s].Start)
                return null; // more statements after the COPY: each piece would run them again
        }
        var (start, end) = sql.Statements[0];
        var tokens = sql.Tokens;
        var text = sql.Sql;
        var kind = CopyDataKind.Text;
        if (start + 1 < end && tokens[start + 1].IsWord(text, "BINARY"))
            kind = CopyDataKind.Binary; // COPY BINARY t FROM STDIN
        var stdin = -1;
        for (var i = start + 1; i + 1 < end; i++)
        {
            if (tokens[i].IsWord(text, "FROM") && tokens[i + 1].IsWord(text, "STDIN"))
            {
                stdin = i + 1;
                break;
            }
        }
        if (stdin < 0)
            return null;
        var options = new Options(kind);
        var at = stdin + 1;
        if (at < end && tokens[at].IsWord(text, "WITH"))
            at++;
        var ok = at < end && tokens[at].IsPunct(text, '(')
            ? options.ReadList(sql, at, end)
            : options.ReadLegacy(sql, at, end);
        if (!ok)
            return null;
        var format = options.Build();
        if (format is null || (format.Kind == CopyDataKind.Binary) != binaryResponse)
            return null;
        return format;
    }

    /// <summary>The text of statement 0 alone (what each piece runs).</summary>
    public static string StatementText(SqlAnalysis sql)
    {
        var (start, end) = sql.Statements[0];
        var tokens = sql.Tokens;
        return sql.Sql[tokens[start].Start..tokens[end - 1].End];
    }

    private sealed class Options(CopyDataKind kind)
    {
        private CopyDataKind _kind = kind;
        private bool _header;
        private string? _quote;
        private string? _escape;

        public CopyFormat? Build()
        {
            if (_kind != CopyDataKind.Csv)
                return _quote is null && _escape is null ? new CopyFormat(_kind, 0, 0, _header && _kind == CopyDataKind.Text) : null;
            var quote = _quote ?? "\"";
            var escape = _escape ?? quote;
            if (quote.Length != 1 || escape.Length != 1 || quote[0] > 127 || escape[0] > 127)
                return null;
            return new CopyFormat(CopyDataKind.Csv, (byte)quote[0], (byte)escape[0], _header);
        }

        /// <summary>( name [value], ... ) then nothing but a WHERE clause.</summary>
        public bool ReadList(SqlAnalysis sql, int open, int end)
        {
            var tokens = sql.Tokens;
            var text = sql.Sql;
            var i = open + 1;
            while (i < end)
            {
                if (tokens[i].Kind != SqlTokenKind.Word && tokens[i].Kind != SqlTokenKind.QuotedIdentifier)
                    return false;
                var name = tokens[i].Kind == SqlTokenKind.Word ? tokens[i].Upper(text) : tokens[i].Text(text).Trim('"').ToUpperInvariant();
                i++;
                var valueStart = i;
                var depth = 0;
                while (i < end && (depth > 0 || !(tokens[i].IsPunct(text, ',') || tokens[i].IsPunct(text, ')'))))
                {
                    if (tokens[i].IsPunct(text, '('))
                        depth++;
                    else if (tokens[i].IsPunct(text, ')'))
                        depth--;
                    i++;
                }
                if (i >= end)
                    return false;
                if (!Apply(name, sql, valueStart, i))
                    return false;
                if (tokens[i].IsPunct(text, ')'))
                {
                    i++;
                    break;
                }
                i++; // the comma
            }
            return i >= end || tokens[i].IsWord(text, "WHERE");
        }

        /// <summary>The options before 9.0's list: BINARY, CSV, HEADER, QUOTE [AS] 'q', ESCAPE [AS] 'e' and the others, up to WHERE.</summary>
        public bool ReadLegacy(SqlAnalysis sql, int at, int end)
        {
            var tokens = sql.Tokens;
            var text = sql.Sql;
            for (var i = at; i < end; i++)
            {
                var token = tokens[i];
                if (token.IsWord(text, "WHERE"))
                    return true;
                if (token.IsWord(text, "BINARY"))
                    _kind = CopyDataKind.Binary;
                else if (token.IsWord(text, "CSV"))
                    _kind = CopyDataKind.Csv;
                else if (token.IsWord(text, "HEADER"))
                    _header = true;
                else if (token.IsWord(text, "QUOTE") || token.IsWord(text, "ESCAPE"))
                {
                    if (i > at && tokens[i - 1].IsWord(text, "FORCE"))
                        continue; // FORCE QUOTE columns
                    var value = i + 1;
                    if (value < end && tokens[value].IsWord(text, "AS"))
                        value++;
                    if (value >= end || StringValue(sql, value) is not { } literal)
                        return false;
                    if (token.IsWord(text, "QUOTE"))
                        _quote = literal;
                    else
                        _escape = literal;
                    i = value;
                }
            }
            return true;
        }

        private bool Apply(string name, SqlAnalysis sql, int start, int end)
        {
            var tokens = sql.Tokens;
            var text = sql.Sql;
            switch (name)
            {
                case "FORMAT":
                    if (end != start + 1)
                        return false;
                    var format = tokens[start].Kind == SqlTokenKind.String ? StringValue(sql, start) : tokens[start].Text(text);
                    switch (format?.ToUpperInvariant())
                    {
                        case "TEXT": _kind = CopyDataKind.Text; return true;
                        case "CSV": _kind = CopyDataKind.Csv; return true;
                        case "BINARY": _kind = CopyDataKind.Binary; return true;
                        default: return false;
                    }
                case "HEADER":
                    if (end == start)
                    {
                        _header = true;
                        return true;
                    }
                    if (end != start + 1)
                        return false;
                    var value = (tokens[start].Kind == SqlTokenKind.String ? StringValue(sql, start) : tokens[start].Text(text))?.ToUpperInvariant();
                    _header = value switch
                    {
                        "FALSE" or "OFF" or "0" or "NO" or "F" or "N" => false,
                        _ => true, // true, on, 1, match: a first line that is not data
                    };
                    return true;
                case "QUOTE":
                case "ESCAPE":
                    if (end != start + 1 || StringValue(sql, start) is not { } literal)
                        return false;
                    if (name == "QUOTE")
                        _quote = literal;
                    else
                        _escape = literal;
                    return true;
                default:
                    return true; // DELIMITER, NULL, FORCE_*, ENCODING, FREEZE, ON_ERROR, ...: no bearing on where rows end
            }
        }

        /// <summary>A plain '...' literal's value ('' is one quote); null for anything else (E'...', $$...$$).</summary>
        private static string? StringValue(SqlAnalysis sql, int index)
        {
            var token = sql.Tokens[index];
            if (token.Kind != SqlTokenKind.String)
                return null;
            var raw = token.Text(sql.Sql);
            if (raw.Length < 2 || raw[0] != '\'' || raw[^1] != '\'')
                return null;
            return raw[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }
    }
}
