using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Execute ('E'): portal name and the row limit (0 = all).</summary>
internal readonly ref struct ExecuteMessage
{
    public ReadOnlySpan<byte> PortalName { get; init; }
    public int MaxRows { get; init; }

    public static ExecuteMessage Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var portal = reader.ReadCStringBytes();
        var maxRows = reader.ReadInt32();
        reader.EnsureConsumed("Execute");
        return new ExecuteMessage { PortalName = portal, MaxRows = maxRows };
    }

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> portal, int maxRows)
    {
        var writer = new MessageWriter(output, FrontendCode.Execute, portal.Length + 5);
        writer.WriteCString(portal);
        writer.WriteInt32(maxRows);
        writer.Complete();
    }
}
