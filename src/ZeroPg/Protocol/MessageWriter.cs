using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Protocol;

/// <summary>Writes one backend or frontend message into a buffer: type byte, length, fields.</summary>
internal ref struct MessageWriter
{
    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _length;

    public MessageWriter(IBufferWriter<byte> output, FrontendCode code, int sizeHint = 256)
        : this(output, (byte)code, sizeHint)
    {
    }

    public MessageWriter(IBufferWriter<byte> output, BackendCode code, int sizeHint = 256)
        : this(output, (byte)code, sizeHint)
    {
    }

    private MessageWriter(IBufferWriter<byte> output, byte code, int sizeHint)
    {
        _output = output;
        _span = output.GetSpan(Math.Max(sizeHint, 5) + 5);
        _span[0] = code;
        _length = 5;
    }

    public void WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        _length += 1;
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);
        _length += 2;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
        _length += 4;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Reserve(value.Length));
        _length += value.Length;
    }

    public void WriteCString(ReadOnlySpan<byte> value)
    {
        WriteBytes(value);
        WriteByte(0);
    }

    public void WriteCString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        Encoding.UTF8.GetBytes(value, Reserve(count + 1));
        _length += count;
        WriteByte(0);
    }

    /// <summary>Fills in the length and commits the message to the output.</summary>
    public void Complete()
    {
        BinaryPrimitives.WriteInt32BigEndian(_span[1..], _length - 1);
        _output.Advance(_length);
    }

    private Span<byte> Reserve(int count)
    {
        if (_span.Length - _length < count)
        {
            // Grow: copy what is written so far into a larger span of the same writer.
            var larger = _output.GetSpan(Math.Max(_span.Length * 2, _length + count));
            _span[.._length].CopyTo(larger);
            _span = larger;
        }
        return _span[_length..];
    }
}
