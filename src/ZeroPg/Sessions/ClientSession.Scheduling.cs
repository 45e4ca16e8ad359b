using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>Getting and giving up the shared engine: FIFO waits, notices, timeouts, cancel of a queued unit.</summary>
internal sealed partial class ClientSession
{
    /// <summary>Waits in FIFO order until this session owns the engine (at once if it does), then brings the engine session to this client's state.</summary>
    private async Task AcquireEngineAsync()
    {
        var scheduler = _services.Scheduler;
        if (scheduler.Owner == this)
            return;
        if (_cleaningUp)
        {
            // Undoing what a departed client left must not be cancelled by its connection closing.
            await scheduler.AcquireAsync(this, CancellationToken.None);
            await OnEngineAcquiredAsync();
            return;
        }
        var options = _services.Options;
        if (_cancelWait.IsCancellationRequested)
            ResetCancel(); // a CancelRequest that came while nothing of ours waited or ran: Postgres ignores it
        var wait = scheduler.AcquireAsync(this, _cancelWait.Token).AsTask();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var queued = !wait.IsCompleted;
        // The notice must not hold back a shorter queue-wait timeout.
        if (!wait.IsCompleted && options.QueueWaitNotice > TimeSpan.Zero
            && (options.QueueWaitTimeout == TimeSpan.Zero || options.QueueWaitNotice < options.QueueWaitTimeout))
        {
            using var noticeTimer = new CancellationTokenSource();
            var notice = Task.Delay(options.QueueWaitNotice, noticeTimer.Token);
            var first = await Task.WhenAny(wait, notice);
            noticeTimer.Cancel(); // most waits are short: do not leave a timer behind for each
            if (first != wait)
            {
                ErrorResponse.Write(_output, PgError.Notice(
                    $"waiting for the shared PGlite engine: {scheduler.QueueLength} client(s) queued",
                    "Another client holds the engine, most likely in a long query or an open transaction."));
                await _output.FlushAsync();
            }
        }
        if (options.QueueWaitTimeout > TimeSpan.Zero)
        {
            try
            {
                var remaining = options.QueueWaitTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                await wait.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                await AbandonWaitAsync(wait);
                throw new QueueWaitAbortedException(PgError.Error(SqlState.QueryCanceled,
                    $"canceling statement: waited {options.QueueWaitTimeout.TotalSeconds:0.#} s for the shared PGlite engine",
                    "Another client holds the engine in a long query or an open transaction; raise --queue-wait-timeout or shorten transactions."));
            }
        }
        try
        {
            await wait;
        }
        catch (OperationCanceledException) when (!_connectionClosed.IsCancellationRequested)
        {
            ResetCancel();
            throw new QueueWaitAbortedException(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request",
                "The statement was still waiting for the shared engine and did not run."));
        }
        if (queued)
            _services.Metrics.RecordQueueWait(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        await OnEngineAcquiredAsync();
    }

    private async Task AbandonWaitAsync(Task wait)
    {
        _cancelWait.Cancel();
        try
        {
            await wait;
            _services.Scheduler.Release(this); // granted just before the cancel landed
        }
        catch (OperationCanceledException)
        {
            // Removed from the queue.
        }
        ResetCancel();
    }

    private void ResetCancel()
    {
        var old = _cancelWait;
        _cancelWait = new CancellationTokenSource();
        old.Dispose();
    }

    /// <summary>Answers a unit that never ran: the error, then one ReadyForQuery per Sync/Query it held.</summary>
    private async Task ReportDroppedUnitsAsync(PgError error, int readyCount)
    {
        ErrorResponse.Write(_output, error);
        for (var i = 0; i < readyCount; i++)
            ReadyForQuery.Write(_output, _status);
        await _output.FlushAsync();
    }

    /// <summary>How many ReadyForQuery a run of client messages asks for (one per Sync, Query, FunctionCall).</summary>
    private static int CountReadyForQuery(ReadOnlySpan<byte> messages)
    {
        var readyCount = 0;
        var offset = 0;
        while (offset + 5 <= messages.Length)
        {
            var code = (FrontendCode)messages[offset];
            if (code is FrontendCode.Sync or FrontendCode.Query or FrontendCode.FunctionCall)
                readyCount++;
            offset += 1 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
        }
        return readyCount;
    }

    private void ReleaseEngineIfIdle()
    {
        if (_status == TransactionStatus.Idle && !_engineExtendedOpen && _copy is null)
            _services.Scheduler.Release(this);
    }

    /// <summary>A CancelRequest named this session.</summary>
    internal void RequestCancel()
    {
        // A batch still queued for the engine is dropped. One already running can only be stopped by
        // killing the engine (on-disk databases only); this client then gets 57014, not 57P01.
        // A pipelined unit (running, engine already handed on) is killed only when nothing else is queued in the engine behind it.
        var owner = _services.Scheduler.Owner == this;
        if (!owner && !_inEngineCall)
            _cancelWait.Cancel();
        else if (_services.Engine.TryCancelRunningQuery(onlyIfSoleCall: !owner))
            _killedEngineToCancel = true;
        else if (_inEngineCall)
            Interlocked.Exchange(ref _cancelWarningPending, 1);
    }

    private int _cancelWarningPending;
    private volatile bool _inEngineCall;

    /// <summary>A cancel that could not stop the running query is answered with a WARNING before the unit's ReadyForQuery.</summary>
    internal PgError? TakeCancelWarning() => Interlocked.Exchange(ref _cancelWarningPending, 0) == 1
        ? PgError.Warning(SqlState.QueryCanceled, "the running query cannot be cancelled",
            "PGlite cannot interrupt a running query; ZeroPg stops one by restarting the engine, which a memory:// database would not survive. Use a data directory (--db DIR) to make queries cancellable.")
        : null;
}
