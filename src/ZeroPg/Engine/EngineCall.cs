using System.Buffers;

namespace ZeroPg.Engine;

/// <summary>
/// One request to the engine whose reply is streamed back to it. The engine answers requests in the
/// order they were written, so the reader hands each reply chunk to the oldest call still open.
/// </summary>
internal abstract class EngineCall
{
    private readonly bool _continuesOnReader;
    private TaskCompletionSource _completion;

    /// <param name="continuesOnReader">
    /// The awaiter of <see cref="Completion"/> goes on on the engine reader thread, inline, instead of through the thread pool:
    /// for a session, whose work after a reply is short and ends in an await of the client's next message. Waking a pool
    /// worker for it cost more than that work (a thread wake-up and the pool's spinning, per statement). What such a continuation
    /// writes to the engine goes out at once only if the pipe takes it without waiting, else from the thread pool
    /// (<see cref="EngineProcess.SubmitAsync"/>): the reader must never block on the host's input while the host blocks on its output.
    /// </param>
    protected EngineCall(bool continuesOnReader = false)
    {
        _continuesOnReader = continuesOnReader;
        _completion = NewCompletion();
    }

    /// <summary>The sequence number of the call's last Batch frame in its engine (1, 2, ...; a cancel names it).</summary>
    public long Sequence { get; internal set; }

    /// <summary>The frame last written for this call, kept while it runs: the log names what it ran when its cancel was not honoured.</summary>
    internal ReadOnlyMemory<byte> Frame { get; set; }

    /// <summary>Who made the call, for that log (a client's process id and startup options); null: the server's own.</summary>
    public Func<string>? Owner { get; set; }

    private int _statementsEnded;

    /// <summary>
    /// How many statements of the call ended so far (CommandComplete, ErrorResponse or ReadyForQuery in its reply). A cancel is
    /// for the statement running when it comes: once the count went up, that statement ended (with the cancel's 57014, or on its
    /// own when the cancel came as Postgres read its next message, where Postgres drops a cancel), though the batch may go on
    /// with its next statements (a pipeline of Queries), as Postgres's would.
    /// </summary>
    public int StatementsEnded => Volatile.Read(ref _statementsEnded);

    /// <summary>Reader thread: the reply carried the end of a statement.</summary>
    protected void SawStatementEnd() => Volatile.Write(ref _statementsEnded, _statementsEnded + 1);

    /// <summary>Completes when the reply has ended (or faults when the engine failed).</summary>
    public Task Completion => _completion.Task;

    /// <summary>A chunk of the engine's reply; not aligned to message boundaries. Ignored unless overridden.</summary>
    public virtual ValueTask OnReplyDataAsync(ReadOnlySequence<byte> data) => ValueTask.CompletedTask;

    /// <summary>The engine finished this request; the reply is complete.</summary>
    public virtual ValueTask OnReplyEndAsync(ReadOnlySequence<byte> payload) => ValueTask.CompletedTask;

    internal void Complete() => _completion.TrySetResult();

    internal void Fail(Exception error) => _completion.TrySetException(error);

    /// <summary>Makes the call reusable for the next request of the same owner.</summary>
    protected void ResetCompletion() => _completion = NewCompletion();

    private TaskCompletionSource NewCompletion() => new(_continuesOnReader ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
}
