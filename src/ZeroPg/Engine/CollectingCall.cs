using System.Buffers;

namespace ZeroPg.Engine;

/// <summary>A call whose whole reply is kept, to be read once it has ended (the server's own queries: backup, migrations).</summary>
internal sealed class CollectingCall : EngineCall
{
    public ArrayBufferWriter<byte> Reply { get; } = new();

    public override ValueTask OnReplyDataAsync(ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
            Reply.Write(segment.Span);
        return ValueTask.CompletedTask;
    }
}
