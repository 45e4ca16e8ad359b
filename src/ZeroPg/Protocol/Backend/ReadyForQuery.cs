using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class ReadyForQuery
{
    public static void Write(IBufferWriter<byte> output, TransactionStatus status)
    {
        var writer = new MessageWriter(output, BackendCode.ReadyForQuery, 1);
        writer.WriteByte((byte)status);
        writer.Complete();
    }
}
