
namespace ZeroPg.Bench.InProcess;

/// <summary>Where a connection's batches go: the engine in this process (<see cref="EnginePipeline"/>, <see cref="InlineEngine"/>)
/// or ZeroPg's engine host in a Node process (<see cref="NodeHostPipeline"/>).</summary>
internal interface IBatchSink
{
    /// <summary>Runs the batch and sends its reply to <paramref name="client"/>; with <paramref name="rowDescription"/> the batch is
    /// an auto-prepared select, whose reply is sent as a simple Query's (<see cref="EnginePipeline.AsSimpleQueryReply"/>).</summary>
    void Post(byte[] batch, IClientConnection client, byte[]? rowDescription);

    /// <summary>Runs one batch and returns its reply to the caller (the auto-prepared statement's preparation).</summary>
    int Run(byte[] batch, ref byte[] reply);
}

/// <summary>The engine run on the connection's own socket thread, which then sends the reply: no other thread.</summary>
internal sealed class InlineEngine(PgliteInV8 engine) : IBatchSink
{
    private readonly Lock _lock = new(); // the reply buffer's: connections run on one socket thread, but need not
    private byte[] _reply = new byte[65536];

    public void Post(byte[] batch, IClientConnection client, byte[]? rowDescription)
    {
        lock (_lock)
        {
            var length = engine.Run(batch, ref _reply);
            client.Send(rowDescription is null ? _reply.AsSpan(0, length) : EnginePipeline.AsSimpleQueryReply(rowDescription, _reply.AsSpan(0, length)));
        }
    }

    public int Run(byte[] batch, ref byte[] reply) => engine.Run(batch, ref reply);
}
