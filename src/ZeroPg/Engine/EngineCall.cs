using System.Buffers;

namespace ZeroPg.Engine;

/// <summary>
/// One request to the engine whose reply is streamed back to it. The engine answers requests in the
/// order they were written, so the reader hands each reply chunk to the oldest call still open.
/// </summary>
internal abstract class EngineCall
{
    private TaskCompletionSource _completion = NewCompletion();

    /// <summary>The sequence number of the call's last Batch frame in its engine (1, 2, ...; a cancel names it).</summary>
    public long Sequence { get; internal set; }

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

    private static TaskCompletionSource NewCompletion() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
