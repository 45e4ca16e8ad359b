namespace ZeroPg.Protocol.Backend;

/// <summary>A CopyData ('d') of COPY TO STDOUT: a piece of the rows, as the engine sent it (no copy).</summary>
internal readonly ref struct CopyDataReply(ReadOnlySpan<byte> data)
{
    public ReadOnlySpan<byte> Data { get; } = data;

    public static CopyDataReply Parse(ReadOnlySpan<byte> message) => new(message[MessageFramer.HeaderLength..]);
}
