using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class CommandComplete
{
    public static void Write(IBufferWriter<byte> output, string tag)
    {
        var writer = new MessageWriter(output, BackendCode.CommandComplete, tag.Length + 1);
        writer.WriteCString(tag);
        writer.Complete();
    }

    public static ReadOnlySpan<byte> ReadTag(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        return reader.ReadCStringBytes();
    }
}
