using ZeroPg.Sessions;

namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// The server's own hold on one database's engine, as a client's unit holds it (<see cref="EngineScheduler"/>): while it is
/// held no client's statement runs and no client's transaction is open in the engine. It is granted ahead of queued clients,
/// after the current holder. For a restore that holder is terminated with FATAL 57P01, as pg_terminate_backend does: at
/// once when it is inside a transaction block (an idle transaction could keep the restore waiting for ever), after
/// <see cref="Grace"/> otherwise (a statement still running). The grace matters: a session keeps the engine a moment after
/// its client read ReadyForQuery (it reads back settings it changed), and that client is done, not in progress.
/// </summary>
internal sealed class EngineHold : IAsyncDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);

    private readonly EngineScheduler _scheduler;

    private EngineHold(EngineScheduler scheduler) => _scheduler = scheduler;

    /// <param name="terminateHint">When set, the client holding the engine now is terminated with this hint.</param>
    public static async Task<EngineHold> AcquireAsync(SessionServices services, string? terminateHint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var hold = new EngineHold(services.Scheduler);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var granted = services.Scheduler.AcquireFirstAsync(hold, bounded.Token).AsTask();
        try
        {
            // Ahead of the queue, only the holder of this moment stands before us.
            if (!granted.IsCompleted && terminateHint is not null && services.Scheduler.Owner is ClientSession holder)
            {
                if (holder.InTransactionBlock || await Task.WhenAny(granted, Task.Delay(Grace, bounded.Token)) != granted)
                    holder.RequestTerminate(byItself: false, terminateHint);
            }
            await granted;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"a client held the engine of database \"{services.DatabaseName}\" for more than {timeout.TotalSeconds:0} s (a long statement or an open transaction)");
        }
        return hold;
    }

    public ValueTask DisposeAsync()
    {
        _scheduler.Release(this);
        return ValueTask.CompletedTask;
    }
}
