using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Protocol;

/// <summary>Reads protocol fields from the body of one whole, already framed message.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> body)
{
    private readonly ReadOnlySpan<byte> _body = body;
    private int _position;

    public readonly int Position => _position;
    public readonly int Remaining => _body.Length - _position;
    public readonly ReadOnlySpan<byte> Rest => _body[_position..];

    public byte ReadByte()
    {
        Ensure(1);
        return _body[_position++];
    }

    public short ReadInt16()
    {
        Ensure(2);
        var value = BinaryPrimitives.ReadInt16BigEndian(_body[_position..]);
        _position += 2;
        return value;
    }

    public ushort ReadUInt16()
    {
        Ensure(2);
        var value = BinaryPrimitives.ReadUInt16BigEndian(_body[_position..]);
        _position += 2;
        return value;
    }

    public int ReadInt32()
    {
        Ensure(4);
        var value = BinaryPrimitives.ReadInt32BigEndian(_body[_position..]);
        _position += 4;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Ensure(count);
        var span = _body.Slice(_position, count);
        _position += count;
        return span;
    }

    /// <summary>A NUL-terminated string, without its terminator.</summary>
    public ReadOnlySpan<byte> ReadCStringBytes()
    {
        var end = _body[_position..].IndexOf((byte)0);
        if (end < 0)
            throw ProtocolViolation.Create("invalid string in message: missing NUL terminator");
        var span = _body.Slice(_position, end);
        _position += end + 1;
        return span;
    }

    public string ReadCString() => Encoding.UTF8.GetString(ReadCStringBytes());

    public readonly void EnsureConsumed(string messageName)
    {
        if (Remaining != 0)
            throw ProtocolViolation.Create($"invalid {messageName} message format");
    }

    private readonly void Ensure(int count)
    {
        if (count < 0 || Remaining < count)
            throw ProtocolViolation.Create("insufficient data left in message");
    }
}
