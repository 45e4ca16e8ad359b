using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class NegotiateProtocolVersion
{
    public static void Write(IBufferWriter<byte> output, int newestMinorVersion, IReadOnlyList<string> unrecognizedOptions)
    {
        var writer = new MessageWriter(output, BackendCode.NegotiateProtocolVersion, 64);
        writer.WriteInt32(newestMinorVersion);
        writer.WriteInt32(unrecognizedOptions.Count);
        foreach (var option in unrecognizedOptions)
            writer.WriteCString(option);
        writer.Complete();
    }
}
