using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class NotificationResponse
{
    public static void Write(IBufferWriter<byte> output, int processId, string channel, string payload)
    {
        var writer = new MessageWriter(output, BackendCode.NotificationResponse, channel.Length + payload.Length + 8);
        writer.WriteInt32(processId);
        writer.WriteCString(channel);
        writer.WriteCString(payload);
        writer.Complete();
    }

    public static (int ProcessId, string Channel, string Payload) Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        return (reader.ReadInt32(), reader.ReadCString(), reader.ReadCString());
    }
}
