using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// A client's client_encoding, kept by ZeroPg: the engine always speaks UTF8 (PGlite has none of Postgres's conversion
/// modules), so for a client in another encoding ZeroPg converts, as Postgres's pg_client_to_server does, the text of
/// what it sends (<see cref="ToServer"/>: SQL, names, text-format parameters, COPY text data) and, in
/// <see cref="ClientOutput"/>, of what it gets. Which DataRow columns are text (and so converted) follows the client's
/// own messages in order: each Execute's result formats from its portal's Bind, queued here, and each simple Query's
/// RowDescription. Thread: the session writes; the output reads the queue on the engine reader thread while the session
/// awaits its call, or on the session; the queue's lock makes both safe.
/// </summary>
internal sealed class ClientEncoding(PgEncoding startup)
{
    private readonly Dictionary<string, (string Statement, short[]? Formats)> _portals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _resultTypes = new(StringComparer.Ordinal); // from a Describe of the statement: which binary columns are text
    private readonly Dictionary<string, int[]> _statementTypes = new(StringComparer.Ordinal);
    private readonly Queue<ReplyTurn> _turns = new();
    private readonly Lock _gate = new();
    private Decoder? _copyInDecoder;

    /// <summary>The encoding of the startup packet (or the server's, UTF8): what RESET and DISCARD ALL return to.</summary>
    public PgEncoding Startup { get; } = startup;

    /// <summary>The encoding the client speaks now.</summary>
    public PgEncoding Current { get; private set; } = startup;

    /// <summary>Text is converted both ways.</summary>
    public bool Converts => !Current.PassesThrough;

    /// <summary>A COPY FROM STDIN in text or csv format is under way: its data is text to convert (set by the output as it sends CopyInResponse).</summary>
    public bool CopyInText { get; set; }

    /// <summary>
    /// Session, with nothing of the client's reply pending (<see cref="ClientOutput.SwitchTo"/>): the client speaks
    /// <paramref name="encoding"/> from now on.
    /// </summary>
    internal void Use(PgEncoding encoding)
    {
        Current = encoding;
        lock (_gate)
        {
            _turns.Clear();
            _resultTypes.Clear();
        }
        _portals.Clear();
        _statementTypes.Clear();
        CopyInText = false;
        _copyInDecoder = null;
    }

    /// <summary>
    /// The client's message in UTF8 (whole: type, length, body), or the message itself when there is nothing to convert.
    /// Throws a <see cref="PgErrorException"/> (22021, 22P05) for text the client's encoding does not hold.
    /// </summary>
    public ReadOnlySequence<byte> ToServer(FrontendCode code, ReadOnlySequence<byte> message)
    {
        if (!Converts)
            return message;
        switch (code)
        {
            case FrontendCode.Sync:
            case FrontendCode.FunctionCall:
                Queue(ReplyTurn.Ends);
                return message;
            case FrontendCode.Query:
                Queue(ReplyTurn.Ends);
                break;
            case FrontendCode.CopyData when !CopyInText:
                return message;
            case FrontendCode.CopyDone:
                if (CopyInText && _copyInDecoder is not null)
                {
                    var rest = TextConversion.ToUtf8(Current, _copyInDecoder, [], last: true);
                    _copyInDecoder = null;
                    if (rest.Length > 0)
                        throw new PgErrorException(PgError.Error(SqlState.CharacterNotInRepertoire,
                            $"incomplete multibyte character at the end of COPY data in encoding \"{Current.Name}\""));
                }
                return message;
            case FrontendCode.Parse or FrontendCode.Bind or FrontendCode.Execute or FrontendCode.Describe or FrontendCode.Close
                or FrontendCode.CopyData or FrontendCode.CopyFail:
                break;
            default:
                return message;
        }
        ReadOnlySpan<byte> bytes = message.IsSingleSegment ? message.FirstSpan : message.ToArray();
        var body = new Message(bytes, 0).Body;
        if (code is not (FrontendCode.Bind or FrontendCode.Execute or FrontendCode.CopyData) && (body.IsEmpty || body[^1] != 0))
            return message; // malformed: left for the reader that refuses it
        try
        {
            return Convert(code, bytes, body);
        }
        catch (Exception error) when (error is ArgumentOutOfRangeException
            || error is PgErrorException { Error.SqlState: SqlState.ProtocolViolation })
        {
            // Malformed (a field's length points past the message: found by the fuzzer). The reader refuses it as it would in
            // UTF8, with Postgres's order of checks (a Bind of a missing statement is 26000 before its parameters are read).
            return message;
        }
    }

    private ReadOnlySequence<byte> Convert(FrontendCode code, ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> body)
    {
        var output = new ArrayBufferWriter<byte>(bytes.Length + 16);
        var writer = new MessageWriter(output, code, bytes.Length + 16);
        switch (code)
        {
            case FrontendCode.Query:
                writer.WriteCString(Text(body[..^1]));
                break;
            case FrontendCode.Parse:
                Parse(body, ref writer);
                break;
            case FrontendCode.Bind:
                Bind(body, ref writer);
                break;
            case FrontendCode.Execute:
                Execute(body, ref writer);
                break;
            case FrontendCode.Describe:
            case FrontendCode.Close:
                writer.WriteByte(body[0]);
                var target = Text(body[1..^1]);
                writer.WriteCString(target);
                if (code == FrontendCode.Describe)
                    Queue(new ReplyTurn(TurnKind.Describe, null, body[0] == (byte)'S' ? Encoding.UTF8.GetString(target) : null));
                break;
            case FrontendCode.CopyData:
                _copyInDecoder ??= Current.Encoding.GetDecoder();
                writer.WriteBytes(TextConversion.ToUtf8(Current, _copyInDecoder, body, last: false));
                break;
            default: // CopyFail
                _copyInDecoder = null;
                writer.WriteCString(Lenient(body[..^1]));
                break;
        }
        writer.Complete();
        return new ReadOnlySequence<byte>(output.WrittenMemory);
    }

    /// <summary>
    /// Output: the result formats of the Execute whose DataRows are now due (null: every column is text), and the column
    /// types a Describe of its statement gave, if any; false when a simple Query's rows are due.
    /// </summary>
    public bool TryHeadExecute(out short[]? formats, out int[]? describedTypes)
    {
        lock (_gate)
        {
            if (_turns.TryPeek(out var head) && head.Kind == TurnKind.Execute)
            {
                formats = head.Formats;
                describedTypes = head.Statement is { } statement ? _resultTypes.GetValueOrDefault(statement) : null;
                return true;
            }
        }
        formats = null;
        describedTypes = null;
        return false;
    }

    /// <summary>Output: a Describe was answered (RowDescription with <paramref name="types"/>, or NoData with null).</summary>
    public void DescribeAnswered(int[]? types)
    {
        lock (_gate)
        {
            if (!_turns.TryPeek(out var head) || head.Kind != TurnKind.Describe)
                return;
            _turns.Dequeue();
            if (head.Statement is { } statement && types is not null)
                _resultTypes[statement] = types;
        }
    }

    /// <summary>Output: an Execute's rows ended (CommandComplete, EmptyQueryResponse, PortalSuspended).</summary>
    public void ExecuteEnded()
    {
        lock (_gate)
        {
            if (_turns.TryPeek(out var head) && head.Kind == TurnKind.Execute)
                _turns.Dequeue();
        }
    }

    /// <summary>Output: a ReadyForQuery ends everything up to the Sync or Query it answers (what an error skipped included).</summary>
    public void ReadyForQuerySent()
    {
        lock (_gate)
        {
            while (_turns.TryDequeue(out var turn))
            {
                if (turn.Kind == TurnKind.Ends)
                    return;
            }
        }
    }

    private void Queue(ReplyTurn turn)
    {
        lock (_gate)
            _turns.Enqueue(turn);
    }

    private void Parse(ReadOnlySpan<byte> body, ref MessageWriter writer)
    {
        var reader = new WireReader(body);
        var name = Text(reader.ReadCStringBytes());
        writer.WriteCString(name);
        writer.WriteCString(Text(reader.ReadCStringBytes()));
        var types = new int[reader.ReadUInt16()];
        writer.WriteInt16((short)types.Length);
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = reader.ReadInt32();
            writer.WriteInt32(types[i]);
        }
        _statementTypes[Encoding.UTF8.GetString(name)] = types;
    }

    /// <summary>
    /// Postgres's binary receive functions of text types convert too (pq_getmsgtext): a binary parameter is converted
    /// when the Parse of its statement declared it text, varchar, bpchar, name, json or xml (Npgsql declares them).
    /// </summary>
    private bool IsBinaryText(string statement, int parameter)
        => _statementTypes.TryGetValue(statement, out var types) && parameter < types.Length && types[parameter] is 25 or 1043 or 1042 or 19 or 114 or 142;

    private void Bind(ReadOnlySpan<byte> body, ref MessageWriter writer)
    {
        var reader = new WireReader(body);
        var portal = Encoding.UTF8.GetString(Text(reader.ReadCStringBytes()));
        writer.WriteCString(Encoding.UTF8.GetBytes(portal));
        var statement = Text(reader.ReadCStringBytes());
        writer.WriteCString(statement);
        var statementName = Encoding.UTF8.GetString(statement);
        var formatCount = reader.ReadUInt16();
        writer.WriteInt16((short)formatCount);
        var formats = new short[formatCount];
        for (var i = 0; i < formatCount; i++)
        {
            formats[i] = reader.ReadInt16();
            writer.WriteInt16(formats[i]);
        }
        var parameterCount = reader.ReadUInt16();
        writer.WriteInt16((short)parameterCount);
        for (var i = 0; i < parameterCount; i++)
        {
            var length = reader.ReadInt32();
            if (length < 0)
            {
                writer.WriteInt32(length);
                continue;
            }
            var value = reader.ReadBytes(length);
            if (FormatOf(formats, i) != 0 && !IsBinaryText(statementName, i))
            {
                writer.WriteInt32(length);
                writer.WriteBytes(value);
                continue;
            }
            var converted = TextConversion.ToUtf8(Current, value);
            writer.WriteInt32(converted.Length);
            writer.WriteBytes(converted);
        }
        var resultCount = reader.ReadUInt16();
        var results = new short[resultCount];
        for (var i = 0; i < resultCount; i++)
            results[i] = BinaryPrimitives.ReadInt16BigEndian(reader.ReadBytes(2));
        writer.WriteInt16((short)resultCount);
        foreach (var format in results)
            writer.WriteInt16(format);
        _portals[portal] = (statementName, results.Any(f => f != 0) ? results : null);
    }

    private void Execute(ReadOnlySpan<byte> body, ref MessageWriter writer)
    {
        var reader = new WireReader(body);
        var portal = Encoding.UTF8.GetString(Text(reader.ReadCStringBytes()));
        writer.WriteCString(Encoding.UTF8.GetBytes(portal));
        writer.WriteBytes(reader.Rest);
        var (statement, formats) = _portals.TryGetValue(portal, out var bound) ? bound : ("", null);
        Queue(new ReplyTurn(TurnKind.Execute, formats, statement));
    }

    /// <summary>The format of column or parameter <paramref name="index"/> given a message's format codes (none: text; one: for all).</summary>
    public static short FormatOf(short[]? formats, int index)
        => formats is null || formats.Length == 0 ? (short)0 : formats.Length == 1 ? formats[0] : index < formats.Length ? formats[index] : (short)0;

    private byte[] Text(ReadOnlySpan<byte> value) => TextConversion.ToUtf8(Current, value);

    private byte[] Lenient(ReadOnlySpan<byte> value)
    {
        try
        {
            return Text(value);
        }
        catch (PgErrorException)
        {
            return Encoding.UTF8.GetBytes(Encoding.Latin1.GetString(value));
        }
    }

    private enum TurnKind : byte
    {
        /// <summary>A Sync, Query or FunctionCall: ended by its ReadyForQuery.</summary>
        Ends,
        Execute,
        Describe,
    }

    /// <summary>One client message whose reply is to come, in the order the client sent them.</summary>
    private readonly record struct ReplyTurn(TurnKind Kind, short[]? Formats, string? Statement)
    {
        public static readonly ReplyTurn Ends = new(TurnKind.Ends, null, null);
    }
}
