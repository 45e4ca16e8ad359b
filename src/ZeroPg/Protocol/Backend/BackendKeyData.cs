using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class BackendKeyData
{
    public static void Write(IBufferWriter<byte> output, int processId, int secretKey)
    {
        var writer = new MessageWriter(output, BackendCode.BackendKeyData, 8);
        writer.WriteInt32(processId);
        writer.WriteInt32(secretKey);
        writer.Complete();
    }
}
