using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

internal static class CopyFailMessage
{
    public static void Write(IBufferWriter<byte> output, string reason)
    {
        var writer = new MessageWriter(output, FrontendCode.CopyFail, reason.Length + 1);
        writer.WriteCString(reason);
        writer.Complete();
    }
}
