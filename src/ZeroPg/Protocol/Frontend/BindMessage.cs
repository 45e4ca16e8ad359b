using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Bind ('B'): portal name, statement name, then formats, values and result formats kept as sent.</summary>
internal readonly ref struct BindMessage
{
    public ReadOnlySpan<byte> PortalName { get; init; }
    public ReadOnlySpan<byte> StatementName { get; init; }
    public ReadOnlySpan<byte> Rest { get; init; }

    /// <summary>The Bind <paramref name="message"/> (whole: type, length, body).</summary>
    public static BindMessage FromMessage(ReadOnlySpan<byte> message) => Read(message[MessageFramer.HeaderLength..]);

    public static BindMessage Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var portal = reader.ReadCStringBytes();
        var statement = reader.ReadCStringBytes();
        return new BindMessage { PortalName = portal, StatementName = statement, Rest = reader.Rest };
    }

    /// <summary>A Bind with every parameter in text and every result in text, as a simple Query has them.</summary>
    public static void WriteText(IBufferWriter<byte> output, ReadOnlySpan<byte> portal, ReadOnlySpan<byte> statement, IReadOnlyList<string> values)
    {
        var writer = new MessageWriter(output, FrontendCode.Bind, portal.Length + statement.Length + 8 + values.Count * 16);
        writer.WriteCString(portal);
        writer.WriteCString(statement);
        writer.WriteInt16(0); // no parameter format codes: all text
        writer.WriteInt16((short)values.Count);
        foreach (var value in values)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(value);
            writer.WriteInt32(bytes.Length);
            writer.WriteBytes(bytes);
        }
        writer.WriteInt16(0); // no result format codes: all text
        writer.Complete();
    }

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> portal, ReadOnlySpan<byte> statement, ReadOnlySpan<byte> rest)
    {
        var writer = new MessageWriter(output, FrontendCode.Bind, portal.Length + statement.Length + rest.Length + 2);
        writer.WriteCString(portal);
        writer.WriteCString(statement);
        writer.WriteBytes(rest);
        writer.Complete();
    }
}
