using System.Diagnostics;
using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// One session's hold on the shared engine (<see cref="EngineScheduler"/> decides who is next): waiting
/// for it in FIFO order with a NOTICE after a while, the queue-wait timeout and the cancel of a queued
/// unit, both as 57014 ERRORs raised before anything ran. On every grant the engine restart check runs
/// (<see cref="EngineRestart.OnEngineAcquired"/>). Thread: the session.
/// </summary>
internal sealed class EngineLease(object owner, SessionServices services, SessionCancel cancel, EngineRestart restart, PipeWriter output,
    EngineLoans loans, ReplyForwarder reply, CancellationToken connectionClosed)
{
    private EngineScheduler Scheduler => services.Scheduler;

    public bool IsHeld => Scheduler.Owner == owner;

    /// <summary>Counts this session's grants: a new value is a new turn with the engine (<see cref="EngineLink.TurnWork"/>).</summary>
    public int Turn { get; private set; }

    /// <summary>Waits until this session owns the engine (at once if it does); <paramref name="access"/> says what for (<see cref="IEngineGate"/>).
    /// <paramref name="limits"/>: the unit's lock_timeout, statement_timeout and NOWAIT (<see cref="Waiting.QueueLimits"/>), counted from
    /// now; when one runs out the wait is abandoned, <paramref name="onLimit"/> runs and its error is thrown.</summary>
    public async Task AcquireAsync(EngineAccess access = EngineAccess.Ordinary, Waiting.QueueLimits? limits = null, Action<Waiting.QueueLimits>? onLimit = null)
    {
        if (IsHeld)
            return;
        // The client's last reply reaches its socket first: one that does not read waits here, holding nothing, instead of in
        // the engine reader with the engine (a backend blocks in its write holding only its own).
        await reply.SettleAsync(holdsEngine: false);
        if (cancel.TakeCancelBeforeEngine())
            throw SessionCancel.Dropped("The statement was cancelled before it reached the shared engine and did not run.");
        var queued = Scheduler.AcquireAsync(owner, cancel.WaitToken, access).AsTask();
        var started = Stopwatch.GetTimestamp();
        if (limits is null || queued.IsCompleted)
        {
            await AcquireAsync(queued, started);
            return;
        }
        var guarded = Waiting.QueueGuard.WatchAsync(queued, limits, started, () => Scheduler.Owner is ClientSession other && other != owner && other.InTransactionBlock);
        try
        {
            await AcquireAsync(guarded, started);
        }
        catch (PgErrorException) when (guarded.IsFaulted && !queued.IsFaulted && !queued.IsCanceled)
        {
            await AbandonWaitAsync(queued);
            onLimit?.Invoke(limits);
            throw;
        }
    }

    private async Task AcquireAsync(Task wait, long started)
    {
        var options = services.Options;
        var queued = !wait.IsCompleted;
        // The notice must not hold back a shorter queue-wait timeout.
        if (!wait.IsCompleted && options.QueueWaitNotice > TimeSpan.Zero
            && (options.QueueWaitTimeout == TimeSpan.Zero || options.QueueWaitNotice < options.QueueWaitTimeout))
        {
            // One timer, dropped when the wait ends (most waits are short: with eight clients nearly every unit queues), rather than
            // a delay, its token source and a WhenAny per wait. The wait's own outcome (a cancel) is looked at below.
            var noticeDue = false;
            try
            {
                await wait.WaitAsync(options.QueueWaitNotice);
            }
            catch (TimeoutException)
            {
                noticeDue = true;
            }
            catch (Exception) when (wait.IsCompleted)
            {
                // Faulted or cancelled: rethrown by the await below.
            }
            if (noticeDue)
            {
                ErrorResponse.Write(output, PgError.Notice(
                    $"waiting for the shared PGlite engine: {Scheduler.QueueLength} client(s) queued",
                    "Another client holds the engine, most likely in a long query or an open transaction."));
                await output.FlushAsync();
            }
        }
        if (options.QueueWaitTimeout > TimeSpan.Zero)
        {
            try
            {
                var remaining = options.QueueWaitTimeout - Stopwatch.GetElapsedTime(started);
                await wait.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                await AbandonWaitAsync(wait);
                throw new PgErrorException(PgError.Error(SqlState.QueryCanceled,
                    $"canceling statement: waited {options.QueueWaitTimeout.TotalSeconds:0.#} s for the shared PGlite engine",
                    "Another client holds the engine in a long query or an open transaction; raise --queue-wait-timeout or shorten transactions."));
            }
        }
        try
        {
            await wait;
        }
        catch (OperationCanceledException) when (!connectionClosed.IsCancellationRequested)
        {
            cancel.DeliveredToWait();
            throw SessionCancel.Dropped("The statement was still waiting for the shared engine and did not run.");
        }
        if (queued)
            services.Metrics.RecordQueueWait(Stopwatch.GetElapsedTime(started));
        Turn++;
        restart.OnEngineAcquired();
    }

    /// <summary>For undoing what a departed client left: not cancelled by its connection closing.</summary>
    public async Task AcquireForCleanupAsync()
    {
        if (IsHeld)
            return;
        await Scheduler.AcquireAsync(owner, CancellationToken.None);
        Turn++;
        restart.OnEngineAcquired(mayEnd: false); // the client left: nothing to tell it
    }

    /// <summary>Gives the engine up; the next waiter gets it. Reads other sessions asked to run in it are declined (<see cref="EngineLoans"/>).</summary>
    public void Release()
    {
        Scheduler.Release(owner);
        loans.Decline();
    }

    /// <summary>This session's unit is written to the engine and leaves the engine session as it found it: the next session to ask
    /// takes the engine at once (<see cref="EngineScheduler.HandOver"/>).</summary>
    public void HandOver() => Scheduler.HandOver(owner);

    /// <summary>The handed-over unit's reply came back: true when the engine is still this session's (nobody took it), which keeps it.</summary>
    public bool EndHandOver()
    {
        Scheduler.EndHandOver(owner);
        return IsHeld;
    }

    private async Task AbandonWaitAsync(Task wait)
    {
        cancel.CancelWait();
        try
        {
            await wait;
            Release(); // granted just before the cancel landed
        }
        catch (OperationCanceledException)
        {
            // Removed from the queue.
        }
        cancel.Reset();
    }

    /// <summary>Releases the engine unless the client is inside a transaction block, a COPY or an unfinished extended sequence.</summary>
    public void ReleaseIfIdle(ProtocolState state)
    {
        if (state.CanReleaseEngine)
            Release();
    }
}
