using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Fuzz;

/// <summary>
/// Frontend message bodies, built with explicit counts and lengths so a case can lie about either: the fuzzer's own
/// on purpose, as the server's client (<see cref="ZeroPg.Protocol.WireClient"/>) only writes what is well formed;
/// the framing of a typed message is that client's.
/// </summary>
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

    /// <summary>Honest framing, as the server's own client frames (any type byte); a case that lies builds its bytes with <see cref="Raw"/>.</summary>
    public static byte[] Typed(byte code, ReadOnlySpan<byte> body) => ZeroPg.Protocol.WireClient.Typed((ZeroPg.Protocol.FrontendCode)code, body);

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
