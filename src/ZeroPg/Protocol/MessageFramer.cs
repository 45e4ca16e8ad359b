using System.Buffers;
using System.Buffers.Binary;

namespace ZeroPg.Protocol;

/// <summary>How a length-prefixed stream counts its length word.</summary>
internal enum LengthWord : byte
{
    /// <summary>Postgres protocol messages: the length counts itself and the body, not the type byte.</summary>
    CountsItself,

    /// <summary>Engine host frames: the length counts the payload only.</summary>
    PayloadOnly,
}

/// <summary>
/// The one framing rule of every stream ZeroPg reads: <c>[type u8][length i32 BE][...]</c>, client
/// messages, engine replies and engine host frames alike. Readers take whole messages only ("frame
/// first, then parse"), consume what they can, and keep the tail for the next read:
/// <see cref="MessageReader"/> over a span, <see cref="TryRead"/> over a pipe's sequence.
/// </summary>
internal static class MessageFramer
{
    public const int HeaderLength = 5;

    /// <summary>
    /// The length of the whole message (type byte included) whose 5-byte header starts <paramref name="header"/>.
    /// A length word below the rule's minimum yields a value below <see cref="HeaderLength"/>: the stream is corrupt.
    /// </summary>
    public static long WholeLength(ReadOnlySpan<byte> header, LengthWord rule)
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        return rule == LengthWord.CountsItself
            ? length < 4 ? -1 : 1L + length
            : length < 0 ? -1 : HeaderLength + (long)length;
    }

    /// <summary>The type byte and whole length of the message at the start of <paramref name="buffer"/>; false until its header has arrived.</summary>
    public static bool TryPeekHeader(in ReadOnlySequence<byte> buffer, LengthWord rule, out byte code, out long wholeLength)
    {
        code = 0;
        wholeLength = 0;
        if (buffer.Length < HeaderLength)
            return false;
        Span<byte> copy = stackalloc byte[HeaderLength];
        scoped ReadOnlySpan<byte> header;
        if (buffer.FirstSpan.Length >= HeaderLength)
        {
            header = buffer.FirstSpan;
        }
        else
        {
            buffer.Slice(0, HeaderLength).CopyTo(copy); // the header is split across segments
            header = copy;
        }
        code = header[0];
        wholeLength = WholeLength(header, rule);
        return true;
    }

    /// <summary>
    /// Takes one whole message off the front of <paramref name="buffer"/> (a pipe's unread bytes); false when
    /// it has not all arrived. Callers check the header first (<see cref="TryPeekHeader"/>) when they must
    /// refuse a type or a length before the body is buffered.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, LengthWord rule, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (!TryPeekHeader(buffer, rule, out _, out var whole) || whole < HeaderLength || buffer.Length < whole)
            return false;
        message = buffer.Slice(0, whole);
        buffer = buffer.Slice(whole);
        return true;
    }
}

/// <summary>One whole message: its type byte, all its bytes (header included) and its body.</summary>
internal readonly ref struct Message(ReadOnlySpan<byte> bytes, int offset)
{
    public ReadOnlySpan<byte> Bytes { get; } = bytes;

    /// <summary>Where the message starts in the span it was read from.</summary>
    public int Offset { get; } = offset;

    public byte Code => Bytes[0];
    public FrontendCode Frontend => (FrontendCode)Bytes[0];
    public BackendCode Backend => (BackendCode)Bytes[0];
    public ReadOnlySpan<byte> Body => Bytes[MessageFramer.HeaderLength..];
    public int Length => Bytes.Length;
}

/// <summary>
/// Walks the whole messages at the start of a span: consume what you can, report the count
/// (<see cref="Consumed"/>), keep the tail (<see cref="Tail"/>, a message not all there yet).
/// Usable with foreach over a span known to hold whole messages.
/// </summary>
internal ref struct MessageReader(ReadOnlySpan<byte> data, LengthWord rule = LengthWord.CountsItself)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly LengthWord _rule = rule;
    private int _consumed;
    private Message _current;

    /// <summary>Bytes of whole messages read so far.</summary>
    public readonly int Consumed => _consumed;

    /// <summary>What is left after the whole messages read: the start of a message still arriving.</summary>
    public readonly ReadOnlySpan<byte> Tail => _data[_consumed..];

    public bool TryRead(out Message message)
    {
        message = default;
        var rest = _data[_consumed..];
        if (rest.Length < MessageFramer.HeaderLength)
            return false;
        var whole = MessageFramer.WholeLength(rest, _rule);
        if (whole < MessageFramer.HeaderLength)
            throw new InvalidDataException($"invalid message length in a stream of type '{(char)rest[0]}' messages");
        if (rest.Length < whole)
            return false;
        message = new Message(rest[..(int)whole], _consumed);
        _consumed += (int)whole;
        return true;
    }

    public readonly MessageReader GetEnumerator() => this;

    public bool MoveNext() => TryRead(out _current);

    public readonly Message Current => _current;
}
