using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Fuzz;

/// <summary>Frontend message bytes, built with explicit counts and lengths so a case can lie about either.</summary>
internal sealed class Wire
{
    private readonly MemoryStream _body = new();

    public Wire Int16(int value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, unchecked((short)value));
        _body.Write(bytes);
        return this;
    }

    public Wire Int32(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        _body.Write(bytes);
        return this;
    }

    public Wire Byte(byte value)
    {
        _body.WriteByte(value);
        return this;
    }

    public Wire Raw(ReadOnlySpan<byte> bytes)
    {
        _body.Write(bytes);
        return this;
    }

    public Wire CString(string value) => Raw(Encoding.UTF8.GetBytes(value)).Byte(0);

    public byte[] Body() => _body.ToArray();

    /// <summary>A typed message: type byte, int32 length counting itself, body.</summary>
    public byte[] Typed(char code) => Typed((byte)code, Body());

    public static byte[] Typed(byte code, ReadOnlySpan<byte> body)
    {
        var message = new byte[5 + body.Length];
        message[0] = code;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    /// <summary>A startup-phase packet: int32 length, int32 code, body.</summary>
    public byte[] Untyped(int code)
    {
        var body = Body();
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), code);
        body.CopyTo(packet.AsSpan(8));
        return packet;
    }

    public const int ProtocolVersion3 = 196608;
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;
    public const int CancelRequestCode = 80877102;
}
