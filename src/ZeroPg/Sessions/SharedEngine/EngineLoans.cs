using System.Collections.Concurrent;

namespace ZeroPg.Sessions;

/// <summary>
/// Reads another session asks this one to run in the engine while this one holds it in an open transaction: the engine runs
/// one transaction at a time, and a client may wait inside its transaction for something another connection must do first
/// (zero-cache makes its replication slot on a walsender from inside a transaction on another connection). Only what may run
/// inside any transaction unnoticed is lent: a read of the WAL position and of whether the transaction has an id. Served on
/// this session's own flow (its message loop, between units), so they never overlap its engine calls. A session that gives
/// the engine up declines what is queued (<see cref="Decline"/>): it may next wait for the engine behind the asker (an
/// exported snapshot lets only its exporter in), and must not keep it waiting meanwhile. Thread: any thread asks
/// (<see cref="Ask"/>) and may decline; the session serves (<see cref="ServeAsync"/>) and declines when it releases or ends.
/// </summary>
internal sealed class EngineLoans
{
    private readonly ConcurrentQueue<(IReadOnlyList<string> Statements, TaskCompletionSource<IReadOnlyList<byte[]>?> Reply)> _asked = new();

    public bool Pending => !_asked.IsEmpty;

    /// <summary>Queues statements to run in this session's transaction; the reply is null when it cannot lend the engine (then: wait for it).</summary>
    public Task<IReadOnlyList<byte[]>?> Ask(IReadOnlyList<string> statements)
    {
        var reply = new TaskCompletionSource<IReadOnlyList<byte[]>?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _asked.Enqueue((statements, reply));
        return reply.Task;
    }

    /// <summary>Runs what was asked through <paramref name="run"/> while <paramref name="canLend"/> holds, else answers null.</summary>
    public async Task ServeAsync(Func<bool> canLend, Func<IReadOnlyList<string>, Task<IReadOnlyList<byte[]>>> run)
    {
        while (_asked.TryDequeue(out var loan))
        {
            if (!canLend())
            {
                loan.Reply.TrySetResult(null);
                continue;
            }
            try
            {
                loan.Reply.TrySetResult(await run(loan.Statements));
            }
            catch (Exception error)
            {
                loan.Reply.TrySetException(error);
                throw;
            }
        }
    }

    /// <summary>The session released the engine or ends: what is queued is answered null (the asker then waits for the engine).</summary>
    public void Decline()
    {
        while (_asked.TryDequeue(out var loan))
            loan.Reply.TrySetResult(null);
    }
}
