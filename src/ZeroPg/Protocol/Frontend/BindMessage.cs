using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Bind ('B'): portal name, statement name, then formats, values and result formats kept as sent.</summary>
internal readonly ref struct BindMessage
{
    public ReadOnlySpan<byte> PortalName { get; init; }
    public ReadOnlySpan<byte> StatementName { get; init; }
    public ReadOnlySpan<byte> Rest { get; init; }

    public static BindMessage Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var portal = reader.ReadCStringBytes();
        var statement = reader.ReadCStringBytes();
        return new BindMessage { PortalName = portal, StatementName = statement, Rest = reader.Rest };
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
