using ZeroPg.Sessions;

namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// The server's own hold on one database's engine, as a client's unit holds it (<see cref="EngineScheduler"/>): while it is
/// held no client's statement runs and no client's transaction is open in the engine. It is granted ahead of queued clients,
/// after the current holder; for a restore that holder (a statement running, a transaction open) is terminated with FATAL
/// 57P01, as pg_terminate_backend does, so an idle transaction cannot keep the restore waiting.
/// </summary>
internal sealed class EngineHold : IAsyncDisposable
{
    private readonly EngineScheduler _scheduler;

    private EngineHold(EngineScheduler scheduler) => _scheduler = scheduler;

    /// <param name="terminateHint">When set, the client holding the engine now is terminated with this hint.</param>
    public static async Task<EngineHold> AcquireAsync(SessionServices services, string? terminateHint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var hold = new EngineHold(services.Scheduler);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var granted = services.Scheduler.AcquireFirstAsync(hold, bounded.Token).AsTask();
        // Ahead of the queue, only the holder of this moment stands before us.
        if (!granted.IsCompleted && terminateHint is not null && services.Scheduler.Owner is ClientSession holder)
            holder.RequestTerminate(byItself: false, terminateHint);
        try
        {
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
