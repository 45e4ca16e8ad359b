using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>Frontend messages: fluent builders that queue them, and static builders of their bytes for framer tests and broken variants.</summary>
public sealed partial class RawProtocolClient
{
    public const int ProtocolVersion3 = 196608;
    public const int SslRequestCode = 80877103;
    public const int CancelRequestCode = 80877102;

    public RawProtocolClient Parse(string name, string sql, params uint[] parameterTypes)
    {
        var body = new MemoryStream();
        WriteCString(body, name);
        WriteCString(body, sql);
        WriteInt16(body, (short)parameterTypes.Length);
        foreach (var type in parameterTypes)
            WriteInt32(body, (int)type);
        return Add('P', body);
    }

    /// <summary>Bind with text parameters (null for SQL NULL) and text results.</summary>
    public RawProtocolClient Bind(string portal, string statement, params string?[] parameters)
    {
        var body = new MemoryStream();
        WriteCString(body, portal);
        WriteCString(body, statement);
        WriteInt16(body, 0); // no format codes: all parameters in text
        WriteInt16(body, (short)parameters.Length);
        foreach (var parameter in parameters)
        {
            if (parameter is null)
            {
                WriteInt32(body, -1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(parameter);
            WriteInt32(body, bytes.Length);
            body.Write(bytes);
        }
        WriteInt16(body, 0); // no format codes: all results in text
        return Add('B', body);
    }

    public RawProtocolClient Execute(string portal = "", int maxRows = 0)
    {
        var body = new MemoryStream();
        WriteCString(body, portal);
        WriteInt32(body, maxRows);
        return Add('E', body);
    }

    public RawProtocolClient DescribeStatement(string name) => Bytes(TypedMessage('D', [(byte)'S', .. CString(name)]));

    public RawProtocolClient CloseStatement(string name) => Bytes(TypedMessage('C', [(byte)'S', .. CString(name)]));

    public RawProtocolClient Sync() => Bytes(TypedMessage('S', []));

    public RawProtocolClient Flush() => Bytes(TypedMessage('H', []));

    public RawProtocolClient Query(string sql) => Bytes(TypedMessage('Q', CString(sql)));

    public RawProtocolClient CopyData(string data) => Bytes(TypedMessage('d', Encoding.UTF8.GetBytes(data)));

    public RawProtocolClient CopyDone() => Bytes(TypedMessage('c', []));

    public RawProtocolClient CopyFail(string reason) => Bytes(TypedMessage('f', CString(reason)));

    public RawProtocolClient Terminate() => Bytes(TypedMessage('X', []));

    public RawProtocolClient SslRequest() => Bytes(StartupPacket(SslRequestCode));

    /// <summary>Queues a CancelRequest: it belongs on a connection of its own, made with <see cref="ConnectWithoutStartupAsync"/>.</summary>
    public RawProtocolClient CancelRequest(byte[] backendKey) => Bytes(UntypedPacket(CancelRequestCode, backendKey));

    /// <summary>Queues bytes as they are, for what no builder makes: broken messages, partial ones, odd packets.</summary>
    public RawProtocolClient Bytes(ReadOnlySpan<byte> bytes)
    {
        _pending.Write(bytes);
        return this;
    }

    /// <summary>A startup-phase packet (no type byte): StartupMessage with name/value pairs, or a bare request code.</summary>
    public static byte[] StartupPacket(int code, params string[] parameters)
    {
        var body = new MemoryStream();
        foreach (var parameter in parameters)
            WriteCString(body, parameter);
        if (parameters.Length > 0)
            body.WriteByte(0);
        return UntypedPacket(code, body.ToArray());
    }

    public static byte[] TypedMessage(char code, ReadOnlySpan<byte> body)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)code;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    public static byte[] CString(string value) => [.. Encoding.UTF8.GetBytes(value), 0];

    private static byte[] UntypedPacket(int code, ReadOnlySpan<byte> body)
    {
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), code);
        body.CopyTo(packet.AsSpan(8));
        return packet;
    }

    private RawProtocolClient Add(char code, MemoryStream body) => Bytes(TypedMessage(code, body.GetBuffer().AsSpan(0, (int)body.Length)));

    private static void WriteInt32(Stream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteInt16(Stream stream, short value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteCString(Stream stream, string value) => stream.Write(CString(value));
}
