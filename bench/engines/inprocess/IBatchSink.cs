namespace ZeroPg.Bench.InProcess;

/// <summary>Where a connection's batches go: the engine in this process (<see cref="EnginePipeline"/>, <see cref="InlineEngine"/>)
/// or ZeroPg's engine host in a Node process (<see cref="NodeHostPipeline"/>).</summary>
internal interface IBatchSink
{
    /// <summary>Runs the batch (whole messages ending with Sync or a Query) and sends its whole reply to <paramref name="to"/>.</summary>
    void Post(byte[] batch, IReplyTarget to);
}

/// <summary>The engine run on the connection's own socket thread, which then sends the reply: no other thread.</summary>
internal sealed class InlineEngine(PgliteInV8 engine) : IBatchSink
{
    private readonly Lock _lock = new(); // the reply buffer's: connections run on one socket thread, but need not
    private byte[] _reply = new byte[65536];

    public void Post(byte[] batch, IReplyTarget to)
    {
        lock (_lock)
        {
            var length = engine.Run(batch, ref _reply);
            to.Send(_reply.AsSpan(0, length));
        }
    }
}
