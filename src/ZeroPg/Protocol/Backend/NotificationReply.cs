namespace ZeroPg.Protocol.Backend;

/// <summary>A NotificationResponse ('A'), read once from the whole message.</summary>
internal readonly record struct NotificationReply(int ProcessId, string Channel, string Payload)
{
    public static NotificationReply Parse(ReadOnlySpan<byte> message)
    {
        var (processId, channel, payload) = NotificationResponse.Read(message[MessageFramer.HeaderLength..]);
        return new NotificationReply(processId, channel, payload);
    }
}
