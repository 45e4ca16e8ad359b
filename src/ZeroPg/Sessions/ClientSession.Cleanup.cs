using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    /// <summary>
    /// The client is gone (Terminate, disconnect, fatal error): undo what it left open in the shared
    /// engine session so the next client starts clean, then let the next waiter in.
    /// </summary>
    private bool _cleaningUp;

    private async Task CleanupAsync()
    {
        _cleaningUp = true;
        _services.Notifications.UnlistenAll(this);
        var holdsAdvisoryLocks = _usedAdvisoryLocks && _services.EngineState.AdvisoryInstalledGeneration == _services.Engine.Generation;
        if (_services.Scheduler.Owner != this && !holdsAdvisoryLocks && _tempRelations.Count == 0)
            return;
        try
        {
            if (_services.Scheduler.Owner != this)
                await AcquireEngineAsync();
            if (_copy is not null)
                await AbortCopyAsync();
            var cleanup = new BatchBuffer();
            if (_engineExtendedOpen)
            {
                // A bare Sync would commit the implicit transaction of the unfinished sequence; Postgres
                // aborts it when the client goes. A failing Parse first makes the Sync roll it back.
                ParseMessage.Write(cleanup, [], FailingSql, NoParameterTypes);
                Catalog.Unnamed = default;
                EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
            }
            if (_status != TransactionStatus.Idle)
                QueryMessage.Write(cleanup, "ROLLBACK");
            if (holdsAdvisoryLocks)
                QueryMessage.Write(cleanup, AdvisoryLockSql.UnlockAll(ProcessId));
            if (DropTempRelationsSql() is { Length: > 0 } dropTemp)
                QueryMessage.Write(cleanup, dropTemp);
            if (!cleanup.IsEmpty)
                await ExecuteAsync(cleanup.Frame(HostRequestKind.Batch, cleanup.MessageBytes), ReplyMode.Discard);
        }
        catch (Exception error) when (error is EngineFailedException || IsDisconnect(error))
        {
            // The engine restarts on its own; there is nothing left to undo in a dead engine.
        }
        finally
        {
            _services.Scheduler.Release(this);
            if (holdsAdvisoryLocks)
                _services.EngineState.SignalAdvisoryChange();
        }
    }
}
