namespace ZeroPg.Protocol.Backend;

/// <summary>A ParameterStatus ('S') the engine reports, read once from the whole message.</summary>
internal readonly record struct ParameterStatusReply(string Name, string Value)
{
    public static ParameterStatusReply Parse(ReadOnlySpan<byte> message)
    {
        var (name, value) = ParameterStatus.Read(message[MessageFramer.HeaderLength..]);
        return new ParameterStatusReply(name, value);
    }
}
