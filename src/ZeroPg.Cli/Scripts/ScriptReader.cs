using System.Text;

namespace ZeroPg.Cli.Scripts;

/// <summary>
/// Splits a psql script (a plain pg_dump file) into statements, backslash commands and COPY data,
/// the way psql's own scanner (psqlscan.l) does: quotes, E'' strings, dollar quotes, nested
/// comments, parentheses, and the BEGIN ATOMIC ... END bodies of SQL-standard functions, whose
/// semicolons do not end the statement. It does not parse SQL beyond that: the server does.
/// Reads forward only, with bounded memory: COPY data comes in parts of at most
/// <see cref="MaxCopyPartChars"/>.
/// </summary>
/// <remarks>
/// Separate from the session layer's tokenizer on purpose: that one analyses single statements a
/// client sent; this one is psql's job (script splitting, meta-commands, COPY data in the file).
/// </remarks>
internal sealed class ScriptReader(TextReader reader)
{
    private const int MaxWords = 64;

    private readonly char[] _buffer = new char[64 * 1024];
    private int _position;
    private int _length;
    private bool _endOfInput;
    private int _line = 1;
    private bool _inCopy;
    private int _copyLine;
    private int _copyRows;
    private string? _pendingCopyEnd;

    /// <summary>With <c>standard_conforming_strings = off</c> backslashes escape in every string literal.</summary>
    public bool StandardConformingStrings { get; set; } = true;

    public int MaxCopyPartChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>The next item, or null at the end of the script.</summary>
    public ScriptItem? Next()
    {
        if (_pendingCopyEnd is { } end)
        {
            _pendingCopyEnd = null;
            return new ScriptCopyEnd(_line - 1, end);
        }
        return _inCopy ? ReadCopyData() : ReadStatement();
    }

    private ScriptItem? ReadStatement()
    {
        var raw = new StringBuilder();
        var words = new List<string>();
        var sqlStart = -1;
        var firstLine = _line;
        var parenDepth = 0;
        var beginDepth = 0;
        var identifierCount = 0;
        Span<char> heads = stackalloc char[4];
        heads.Clear();
        var copyFromStdin = false;

        while (true)
        {
            var c = Peek(0);
            if (c < 0)
                break;
            var ch = (char)c;
            if (char.IsWhiteSpace(ch))
            {
                Take(raw);
                continue;
            }
            if (ch == '-' && Peek(1) == '-')
            {
                TakeLineComment(raw);
                continue;
            }
            if (ch == '/' && Peek(1) == '*')
            {
                TakeBlockComment(raw);
                continue;
            }
            if (sqlStart < 0)
            {
                if (ch == '\\')
                    return ReadMetaCommand(raw);
                sqlStart = raw.Length;
                firstLine = _line;
            }

            switch (ch)
            {
                case '\'':
                    TakeString(raw, EscapesBackslashes(raw));
                    break;
                case '"':
                    TakeQuoted(raw, '"');
                    break;
                case '$' when !IsIdentifierChar(Before(raw)) && DollarTagLength() is var tag and > 0:
                    TakeDollarQuoted(raw, tag);
                    break;
                case '(':
                    parenDepth++;
                    Take(raw);
                    break;
                case ')':
                    parenDepth = Math.Max(0, parenDepth - 1);
                    Take(raw);
                    break;
                case ';' when parenDepth == 0 && beginDepth == 0:
                    Take(raw);
                    if (copyFromStdin)
                        TakeRestOfCopyLine(raw);
                    return new ScriptStatement(firstLine, raw.ToString(), sqlStart, words, Terminated: true, copyFromStdin);
                case '\\':
                    throw new ScriptFormatException(_line, "a psql backslash command inside an SQL statement is not supported");
                default:
                    if (IsIdentifierStart(ch))
                    {
                        var word = TakeIdentifier(raw);
                        var upper = word.ToUpperInvariant();
                        if (parenDepth == 0 && words.Count < MaxWords)
                        {
                            if (upper == "STDIN" && words.Count >= 2 && words[0] == "COPY" && words[^1] == "FROM")
                                copyFromStdin = true;
                            words.Add(upper);
                        }
                        TrackFunctionBody(upper, ref identifierCount, heads, parenDepth, ref beginDepth);
                    }
                    else
                    {
                        Take(raw);
                    }
                    break;
            }
        }

        if (sqlStart >= 0)
            return new ScriptStatement(firstLine, raw.ToString(), sqlStart, words, Terminated: false, IsCopyFromStdin: false);
        return raw.Length > 0 ? new ScriptTrailer(firstLine, raw.ToString()) : null;
    }

    /// <summary>
    /// psql's heuristic: inside CREATE [OR REPLACE] FUNCTION/PROCEDURE, BEGIN ... END (and CASE ...
    /// END within it) nest, and semicolons inside do not end the statement.
    /// </summary>
    private static void TrackFunctionBody(string upper, ref int count, Span<char> heads, int parenDepth, ref int beginDepth)
    {
        if (upper is "CREATE" or "FUNCTION" or "PROCEDURE" or "OR" or "REPLACE" && count < heads.Length)
            heads[count] = char.ToLowerInvariant(upper[0]);
        count++;
        var inFunction = heads[0] == 'c' && (heads[1] == 'f' || heads[1] == 'p' || (heads[1] == 'o' && heads[2] == 'r' && (heads[3] == 'f' || heads[3] == 'p')));
        if (!inFunction || parenDepth != 0)
            return;
        if (upper == "BEGIN")
            beginDepth++;
        else if (upper == "CASE" && beginDepth >= 1)
            beginDepth++;
        else if (upper == "END" && beginDepth > 0)
            beginDepth--;
    }

    private ScriptMetaCommand ReadMetaCommand(StringBuilder raw)
    {
        var line = _line;
        var start = raw.Length;
        TakeLine(raw);
        var text = raw.ToString(start, raw.Length - start).TrimEnd('\r', '\n');
        var (name, arguments) = ParseMetaCommand(text);
        return new ScriptMetaCommand(line, raw.ToString(), name, arguments);
    }

    /// <summary>Splits <c>\name arg 'quoted arg' "kept"</c> into the name and its arguments.</summary>
    internal static (string Name, IReadOnlyList<string> Arguments) ParseMetaCommand(string text)
    {
        var at = 1;
        while (at < text.Length && !char.IsWhiteSpace(text[at]))
            at++;
        var name = text[1..at];
        var arguments = new List<string>();
        while (at < text.Length)
        {
            while (at < text.Length && char.IsWhiteSpace(text[at]))
                at++;
            if (at >= text.Length)
                break;
            var argument = new StringBuilder();
            while (at < text.Length && !char.IsWhiteSpace(text[at]))
            {
                var quote = text[at];
                if (quote is '\'' or '"')
                {
                    at++;
                    while (at < text.Length)
                    {
                        if (text[at] == quote)
                        {
                            if (at + 1 < text.Length && text[at + 1] == quote)
                            {
                                argument.Append(quote);
                                at += 2;
                                continue;
                            }
                            at++;
                            break;
                        }
                        argument.Append(text[at++]);
                    }
                }
                else
                {
                    argument.Append(text[at++]);
                }
            }
            arguments.Add(argument.ToString());
        }
        return (name, arguments);
    }

    private ScriptItem ReadCopyData()
    {
        var part = new StringBuilder();
        var firstLine = _line;
        var rows = 0;
        while (true)
        {
            var lineStart = part.Length;
            var line = _line;
            if (!TakeLine(part))
                throw new ScriptFormatException(_copyLine, $"the file ends inside the COPY data that starts here (after {_copyRows:N0} rows): it is truncated");
            var length = part.Length - lineStart;
            var content = length;
            if (content > 0 && part[lineStart + content - 1] == '\n')
                content--;
            if (content > 0 && part[lineStart + content - 1] == '\r')
                content--;
            if (content == 2 && part[lineStart] == '\\' && part[lineStart + 1] == '.')
            {
                var end = part.ToString(lineStart, length);
                part.Length = lineStart;
                _inCopy = false;
                if (rows == 0)
                    return new ScriptCopyEnd(line, end);
                _pendingCopyEnd = end;
                return new ScriptCopyData(firstLine, part.ToString(), rows);
            }
            rows++;
            _copyRows++;
            if (part.Length >= MaxCopyPartChars)
                return new ScriptCopyData(firstLine, part.ToString(), rows);
        }
    }

    private void TakeRestOfCopyLine(StringBuilder raw)
    {
        while (Peek(0) is var c and >= 0 && c != '\n')
        {
            if (!char.IsWhiteSpace((char)c))
                throw new ScriptFormatException(_line, "text after COPY ... FROM stdin; on the same line is not supported (the data must start on the next line)");
            Take(raw);
        }
        if (Peek(0) == '\n')
            Take(raw);
        _inCopy = true;
        _copyLine = _line;
        _copyRows = 0;
    }

    private bool EscapesBackslashes(StringBuilder raw)
    {
        if (!StandardConformingStrings)
            return true;
        // E'...' (also e'...'): the prefix must not be the end of a longer identifier.
        var n = raw.Length;
        return n > 0 && raw[n - 1] is 'E' or 'e' && (n == 1 || !IsIdentifierChar(raw[n - 2]));
    }

    private void TakeString(StringBuilder raw, bool backslashEscapes)
    {
        Take(raw); // opening quote
        while (Peek(0) is var c and >= 0)
        {
            if (c == '\\' && backslashEscapes)
            {
                Take(raw);
                if (Peek(0) >= 0)
                    Take(raw);
                continue;
            }
            Take(raw);
            if (c == '\'')
            {
                if (Peek(0) == '\'')
                {
                    Take(raw);
                    continue;
                }
                return;
            }
        }
    }

    private void TakeQuoted(StringBuilder raw, char quote)
    {
        Take(raw);
        while (Peek(0) is var c and >= 0)
        {
            Take(raw);
            if (c == quote)
            {
                if (Peek(0) == quote)
                {
                    Take(raw);
                    continue;
                }
                return;
            }
        }
    }

    /// <summary>The length of a dollar-quote tag (<c>$$</c>, <c>$body$</c>) starting here, or 0.</summary>
    private int DollarTagLength()
    {
        var at = 1;
        while (Peek(at) is var c and >= 0)
        {
            if (c == '$')
                return at + 1;
            var ch = (char)c;
            if (at == 1 ? !IsIdentifierStart(ch) : !(IsIdentifierStart(ch) || char.IsAsciiDigit(ch)))
                return 0;
            at++;
        }
        return 0;
    }

    private void TakeDollarQuoted(StringBuilder raw, int tagLength)
    {
        var tagStart = raw.Length;
        for (var i = 0; i < tagLength; i++)
            Take(raw);
        var tag = raw.ToString(tagStart, tagLength);
        while (Peek(0) >= 0)
        {
            if (Peek(0) == '$' && Matches(tag))
            {
                for (var i = 0; i < tagLength; i++)
                    Take(raw);
                return;
            }
            Take(raw);
        }
    }

    private bool Matches(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (Peek(i) != text[i])
                return false;
        }
        return true;
    }

    private string TakeIdentifier(StringBuilder raw)
    {
        var start = raw.Length;
        while (Peek(0) is var c and >= 0 && IsIdentifierChar((char)c))
            Take(raw);
        return raw.ToString(start, raw.Length - start);
    }

    private void TakeLineComment(StringBuilder raw)
    {
        while (Peek(0) is var c and >= 0)
        {
            Take(raw);
            if (c == '\n')
                return;
        }
    }

    private void TakeBlockComment(StringBuilder raw)
    {
        var depth = 0;
        while (Peek(0) >= 0)
        {
            if (Peek(0) == '/' && Peek(1) == '*')
            {
                Take(raw);
                Take(raw);
                depth++;
            }
            else if (Peek(0) == '*' && Peek(1) == '/')
            {
                Take(raw);
                Take(raw);
                if (--depth == 0)
                    return;
            }
            else
            {
                Take(raw);
            }
        }
    }

    /// <summary>Appends the rest of the current line, its newline included; false at the end of input with nothing read.</summary>
    private bool TakeLine(StringBuilder into)
    {
        var any = false;
        while (true)
        {
            if (_position >= _length && !Fill())
                return any;
            var span = _buffer.AsSpan(_position, _length - _position);
            var newline = span.IndexOf('\n');
            if (newline >= 0)
            {
                into.Append(span[..(newline + 1)]);
                _position += newline + 1;
                _line++;
                return true;
            }
            into.Append(span);
            _position = _length;
            any = true;
        }
    }

    private static char Before(StringBuilder raw) => raw.Length > 0 ? raw[^1] : ' ';

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c >= '\u0080';

    private static bool IsIdentifierChar(char c) => IsIdentifierStart(c) || char.IsAsciiDigit(c) || c == '$';

    private void Take(StringBuilder raw)
    {
        var c = _buffer[_position++];
        if (c == '\n')
            _line++;
        raw.Append(c);
    }

    private int Peek(int ahead)
    {
        if (_position + ahead >= _length && !Fill(ahead + 1))
            return -1;
        return _buffer[_position + ahead];
    }

    private bool Fill(int needed = 1)
    {
        if (_endOfInput)
            return _length - _position >= needed;
        if (_position > 0)
        {
            Array.Copy(_buffer, _position, _buffer, 0, _length - _position);
            _length -= _position;
            _position = 0;
        }
        while (_length < needed || _length == 0)
        {
            var read = reader.Read(_buffer, _length, _buffer.Length - _length);
            if (read == 0)
            {
                _endOfInput = true;
                break;
            }
            _length += read;
        }
        return _length - _position >= needed;
    }
}
