using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// Runs the client's accepted messages as units of work in the shared engine: the lease, the replication work around a
/// unit, the advisory-lock and auto-prepare retries, and what the unit did to the client's session objects afterwards
/// (<see cref="SessionStates.AfterUnitAsync"/>). The one place where a typed ERROR becomes replies (<see cref="RunUnitAsync"/>):
/// the unit did not run, so the client gets the error and the ReadyForQuery its unit asked for, and stays connected.
/// Thread: the session's message loop.
/// </summary>
internal sealed class UnitRunner(SessionComposition parts, SessionRoles roles)
{
    private readonly SessionServices _services = parts.Services;
    private readonly ProtocolState _state = parts.State;
    private readonly ClientBatch _batch = parts.Batch;
    private readonly EngineLease _lease = parts.Lease;
    private readonly ClientOutput _output = parts.Output;
    private readonly Action<Waiting.QueueLimits> _waitFailed = parts.Waits.Failed;
    private readonly PipelineSlices _slices = new();
    private readonly GuardedRestore _restore = parts.Guarded;

    // The pipeline under way: when the session started on it and how many of its messages ran (ClientWaited resets both).
    private long _pipelineStarted;
    private int _pipelineRan;
    // The last slice was cut inside a unit (ClientBatch.MaxMessagesPerCall): when that unit's Sync came with it, the rest of
    // the unit is one client batch that is let finish, as one statement is (statement_timeout is its bound); the pipeline
    // limit looks again at the next unit. A client's batch of thousands of INSERTs with its Sync is not a flood left open.
    private bool _cutInsideUnit;

    /// <summary>Sends every message held, complete unit or not.</summary>
    /// <summary>Runs every message accepted so far, complete units or not, as a pipeline (<see cref="RunPipelineAsync"/>).</summary>
    public Task SubmitPendingAsync() => RunPipelineAsync(_batch.Count);

    /// <summary>
    /// Runs the first <paramref name="count"/> messages as engine calls of <see cref="PipelineSlices"/> units, the engine released
    /// between them when the client is outside a transaction block: a flood of thousands of Queries in one write holds the
    /// shared engine for a slice at a time, and a client that vanished (its connection ended without a Terminate) has the rest of
    /// its pipeline dropped, as a backend stops at its client's end. Inside a transaction block (or an extended sequence not ended by Sync) the engine cannot be given up
    /// between slices: a pipeline that has run there for the contended limit while another client waited as long is ended as an
    /// idle holder is (<see cref="PipelineInBlockHeldTooLong"/>).
    /// </summary>
    public async Task RunPipelineAsync(int count)
    {
        if (_pipelineStarted == 0)
            _pipelineStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        // Not the connection's end itself: a client that wrote its last statements and Terminate, then closed at once, has them run
        // (on a loaded machine the close is seen before they run).
        while (count > 0 && !parts.Cancel.ClientVanished)
        {
            if (_pipelineRan > 0 && !(_cutInsideUnit && _batch.SyncAhead(count)) && PipelineInBlockHeldTooLong(_pipelineStarted) is { } limit)
                throw new PgErrorException(PipelineInBlockError(limit, _pipelineRan, count));
            var slice = _batch.FirstUnits(count, _slices.Next);
            slice = AdvisoryUnitAlone(slice);
            _cutInsideUnit = !_batch.Messages[slice - 1].Code.AsksForReady();
            var engineTime = parts.Link.EngineTime;
            await RunUnitsAsync(slice);
            _slices.Ran(parts.Link.EngineTime - engineTime);
            count -= slice;
            _pipelineRan += slice;
        }
    }

    /// <summary>
    /// A slice of several units of which one uses advisory locks is cut to its first unit: such a slice runs captured and, when a
    /// lock it asks for is another client's, runs again whole once that lock is released (<see cref="AdvisoryLocks.RunCapturedAsync"/>).
    /// Each Query or Sync of a slice commits on its own, so the units before the busy lock ran again on every retry: a pipelined
    /// `insert ...` before `select pg_advisory_lock(1)` inserted its row once per retry (7 rows in 1.5 s). Alone, a unit that
    /// meets a busy lock is rolled back whole by its error, and runs once.
    /// </summary>
    private int AdvisoryUnitAlone(int slice)
    {
        var first = _batch.FirstUnits(slice, 1);
        return first < slice && UnitRewriter.UsesAdvisoryLocks(_batch, slice) ? first : slice;
    }

    /// <summary>
    /// The session waits for the client's next message: what it sends next is not part of the pipeline before. (A pipeline
    /// arrives in several reads of the connection: the messages received while the engine ran the first are one pipeline with it.)
    /// </summary>
    public void ClientWaited()
    {
        _pipelineStarted = 0;
        _pipelineRan = 0;
    }

    /// <summary>
    /// The contended limit (<see cref="ZeroPgOptions.ContendedIdleTimeout"/>) when this client's pipeline, sent ahead in one
    /// transaction block (or extended sequence not ended by Sync, which holds the engine as a block does), has held the shared engine that long and another client has waited that long for it; else null.
    /// Postgres would let such a transaction run on, blocking only what its locks block; here every client waits behind it.
    /// </summary>
    /// <remarks>
    /// Issue 59's fuzzer: 1,440 FunctionCalls of pg_sleep(0.01) in one write inside START TRANSACTION held the engine 14.9 s
    /// while 143 clients waited (the hold log named the COPY that came after them: a FunctionCall does not set the query); 1,767
    /// Queries after Parses with no Sync held it 16 s (replayed: 33120:1:98).
    /// </remarks>
    private TimeSpan? PipelineInBlockHeldTooLong(long started)
    {
        var limit = _services.Options.ContendedIdleTimeout;
        if (limit <= TimeSpan.Zero || !_lease.IsHeld || _state.CanReleaseEngine)
            return null;
        // Shorter than an idle client's limit (SessionTimeouts.ShortLimit): an idle gap may be a healthy client slowed by a loaded
        // machine, but a pipeline is the engine working through what the client wrote ahead, no gap of the client's in it, and a
        // unit whose Sync came with it is not looked at inside (_cutInsideUnit), nor is a lone unit read after the rest ran
        // (ClientSession.ProcessInputAsync: a client that waits for each reply). Issue 59's fuzzer: Executes of
        // SELECT count(*) FROM generate_series(1, 20000) with no Sync held the engine 5.1 s, the witness's INSERT waiting as long.
        limit = limit < SessionTimeouts.ShortLimit ? limit : SessionTimeouts.ShortLimit;
        return System.Diagnostics.Stopwatch.GetElapsedTime(started) >= limit && _services.Scheduler.LongestWait >= limit ? limit : null;
    }

    private static PgError PipelineInBlockError(TimeSpan limit, int ran, int left) => PgError.Fatal(SqlState.IdleInTransactionTimeout,
        "terminating connection: a pipeline inside a transaction block held the shared engine that other clients wait for",
        $"The client sent {ran + left} messages or more ahead inside one transaction block (or extended-query sequence not ended by Sync); {ran} of them ran for more than {limit.TotalSeconds:0.###} s while another client waited as long for the engine every client of this database shares. Its transaction was rolled back and the rest not run. Send long pipelines outside a transaction block, Sync after each statement (the others get turns between them), or raise --contended-idle-timeout (0 = off).");

    /// <summary>
    /// One slice of a pipeline (<see cref="RunPipelineAsync"/>, the only caller): every run of client messages goes through the
    /// pipeline, so no path sends them to the engine past its slicing and its limit (a path that did held the engine 24 s).
    /// </summary>
    private async Task RunUnitsAsync(int count)
    {
        var suspended = parts.Portals.Candidate(_batch, count, parts.Statements);
        while (true)
        {
            var sequenceOpen = _batch.SequenceOpenAfter(count, _state.SequenceOpenInEngine);
            var answered = await RunUnitAsync(count, _batch.ReadyCount(count), sequenceOpen);
            _batch.Consume(answered);
            if (answered == count)
            {
                _state.Sent(sequenceOpen);
                break;
            }
            count -= answered; // the dropped statement is answered; the rest was never sent and runs now
        }
        if (suspended is not null && _lease.IsHeld)
            await parts.Portals.ReadAheadAsync(suspended, parts.Link); // outside a transaction block a suspended portal does not hold the engine
        if (_state.SequenceOpenInEngine && _state.Transaction == TransactionState.Idle && _batch.Count == 0 && _lease.IsHeld && parts.Link.Reply.SkippingToSync)
            await EndFailedSequenceAsync();
        _lease.ReleaseIfIdle(_state);
    }

    /// <summary>
    /// An error ended the client's extended sequence outside a transaction block and its Sync has not come: the engine would
    /// sit skipping to that Sync, held from every other client for as long as this one takes to send it (a hostile client: for
    /// ever). The implicit transaction is already rolled back, so a Sync of ZeroPg's own ends the engine's side at once, with
    /// nothing else changed, and the client's messages up to its Sync are ignored by the session instead (<see cref="ProtocolState.ClientSkipsToSync"/>).
    /// </summary>
    private async Task EndFailedSequenceAsync()
    {
        var sync = new BatchBuffer();
        Protocol.Frontend.EmptyFrontendMessage.Write(sync, FrontendCode.Sync);
        await parts.Link.RunOwnSqlAsync(ReplyMode.Discard, sync);
        parts.Link.Reply.ResetSequence();
        _state.FailedSequenceEnded();
        if (parts.Link.Reply.LastStatus is { } status)
            _state.Ready(status); // a BEGIN inside the sequence left a failed block: the engine stays this client's until its ROLLBACK
    }

    /// <summary>
    /// Runs the first <paramref name="count"/> accepted messages (or, with none, the pending COPY).
    /// </summary>
    /// <returns>How many of the messages were answered: all of them, or fewer when a cancel dropped the unit before it reached
    /// the engine (only its first statement is answered; see <see cref="UnitDroppedException"/>).</returns>
    public async Task<int> RunUnitAsync(int count, int readyCount, bool sequenceOpen = false)
    {
        using var unit = parts.Cancel.EnterUnit();
        parts.TransactionTimeout.UnitStarting(_state.Status);
        parts.Activity.Running(UnitQuery(count), waits: !_lease.IsHeld, ApplicationName);
        try
        {
            if (count > 0)
            {
                await ExecuteAsync(count, sequenceOpen);
            }
            else
            {
                await _lease.AcquireAsync();
                await parts.Copy.StartAsync();
            }
        }
        catch (UnitDroppedException dropped) // only from ExecuteAsync: count > 0
        {
            var answered = FirstStatementLength(count);
            await WriteErrorAsync(dropped.Error, answered == count ? readyCount : 1);
            return answered;
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            await WriteErrorAsync(error.Error, readyCount);
        }
        finally
        {
            if (!_state.InCopy) // a COPY FROM STDIN under way stays active, as in Postgres, until its load is answered (ClientSession)
                parts.Activity.Idle(_state.Status, ApplicationName);
        }
        return count;
    }

    /// <summary>Starts a COPY FROM STDIN sent by Bind and Execute (the last two messages held), as <see cref="RunUnitAsync"/> runs a unit.</summary>
    public async Task RunExtendedCopyStartAsync()
    {
        using var unit = parts.Cancel.EnterUnit();
        parts.TransactionTimeout.UnitStarting(_state.Status);
        try
        {
            await _lease.AcquireAsync();
            await parts.Copy.StartExtendedAsync(parts.Rewriter, _batch, parts.Statements);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            await WriteErrorAsync(error.Error, readyCount: 0);
        }
        finally
        {
            _batch.Consume(_batch.Count);
            if (!_state.InCopy)
                _state.Sent(sequenceOpen: true); // the client's Sync ends the sequence
        }
    }

    public async Task WriteErrorAsync(PgError error, int readyCount)
    {
        parts.TransactionTimeout.ThrowIfFired(); // a wait it stopped, not the client's error
        ErrorResponse.Write(_output, error);
        for (var i = 0; i < readyCount; i++)
            ReadyForQuery.Write(_output, _state.Status);
        await _output.FlushAsync();
    }

    public string ApplicationName => parts.Settings.Values.TryGetValue("application_name", out var name) ? name : "";

    /// <summary>The SQL a unit of the first <paramref name="count"/> accepted messages runs, as pg_stat_activity's query shows it.</summary>
    public string UnitQuery(int count)
    {
        if (count == 0 && parts.Copy.PendingSql is { } copy)
            return copy; // the pending COPY's unit (count 0): without this pg_stat_activity showed the statement before it
        count = Math.Min(count, _batch.Count);
        for (var i = count - 1; i >= 0; i--)
        {
            if (_batch.Messages[i].Sql is { } sql)
                return sql.Sql; // a Query, or a Parse (its Bind comes after it)
        }
        for (var i = count - 1; i >= 0; i--)
        {
            if (_batch.Messages[i] is { Code: FrontendCode.Bind } bind && parts.Statements.StatementSql(bind.StatementName!) is { } bound)
                return bound.Sql;
        }
        return parts.Activity.Query;
    }

    /// <summary>The messages of the first statement of the unit of <paramref name="count"/>: through its first Query or Sync.</summary>
    private int FirstStatementLength(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (_batch.Messages[i].Code.AsksForReady())
                return i + 1;
        }
        return count;
    }

    private async Task ExecuteAsync(int count, bool sequenceOpen)
    {
        var usesAdvisoryLocks = UnitRewriter.UsesAdvisoryLocks(_batch, count);
        var changesRoles = roles.BeforeUnit(_batch, count);
        if (ReadsDatabaseSizes(count))
            await _services.Databases.Listing.RefreshSizesAsync(_services.DatabaseName, parts.ConnectionClosed); // before the engine is held: it asks the other engines
        var engineBatch = parts.EngineBatch;
        using (var replication = await parts.Replication.BeginUnitAsync(_batch, count, parts.Statements, parts.ConnectionClosed)) // the same for slots
        {
            var pipelined = false;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    // At once when held; again after giving it up (a pipelined run to retry, an advisory lock waited for). The unit's
                    // lock_timeout / statement_timeout and NOWAIT count the wait (Waiting.UnitWaits).
                    await _lease.AcquireAsync(UnitAccess.Of(_batch, count, parts.Statements), parts.Waits.Of(_batch, count), _waitFailed);
                }
                catch (PgErrorException error) when (attempt == 0 && error.Error.SqlState is SqlState.QueryCanceled or SqlState.LockNotAvailable)
                {
                    throw new UnitDroppedException(error.Error); // nothing of the unit ran
                }
                parts.Activity.Engaged();
                var before = _state.Status;
                if (attempt > 0)
                    parts.Statements.UndoUnit(); // built again: its statement names are added again
                if (before == TransactionStatus.Idle && _services.Engine.Running is { IsFailed: true } dead)
                {
                    // Its death is known but the supervisor has not put the new engine in place yet (a new client's first statement,
                    // on a loaded machine): nothing of this unit ran and no transaction of the client's died, so it runs on the new one.
                    await _services.Engine.GetReplacementAsync(dead);
                    parts.Restart.OnEngineAcquired();
                }
                else if (before != TransactionStatus.Idle && parts.Restart.LostTransactionError() is { } lost)
                {
                    // Its transaction died with the engine it ran in, and the death was learnt between the client's read and
                    // here (a loaded machine): the unit must not run in the new engine, outside the transaction the client is in.
                    throw new PgErrorException(lost);
                }
                if (usesAdvisoryLocks)
                    await parts.Advisory.BeforeUseAsync(parts.Link); // installed before the batch is built: building changes the client's statement names
                await replication.BeforeRunAsync(before, usesAdvisoryLocks);
                // The client's state restored in a block of its own (EngineStateRestore.GuardedSql), so that its statements never
                // run in another client's. A unit whose statements could end that block (or the advisory locks' captured run) gets
                // it in a call of its own first, checked there.
                var guarded = _restore.CanGuard(count, usesAdvisoryLocks);
                if (!guarded && _state.EngineUntouched)
                    await _restore.RestoreAloneAsync(); // (inside the client's own block nothing is guarded: the engine session is its already)
                parts.Rewriter.Build(engineBatch, _batch, count, guarded);
                var mark = _restore.MarkIfGuarded(engineBatch);
                if (engineBatch.Effects.Extensions.Count > 0)
                    await _services.Engine.EnsureExtensionsAsync(engineBatch.Effects.Extensions, parts.ConnectionClosed);
                if (usesAdvisoryLocks)
                {
                    if (await parts.Advisory.RunCapturedAsync(parts.Link, engineBatch, _lease, before))
                        break;
                    continue;
                }
                // Not behind a guarded preamble: its aborted block would meet the next client's batch.
                pipelined = !replication.HoldsEngineAfterRun && !engineBatch.Plan.GuardedPreamble && parts.Pipelining.CanPipeline(_batch, count, before, sequenceOpen);
                await parts.Link.RunAsync(engineBatch, ReplyMode.Forward, releaseAfterSubmit: pipelined);
                if (await _restore.FailedAsync(mark))
                    continue; // rolled back, nothing of it ran: built again
                parts.Auto.RunPlainOnce = parts.Link.Reply.RetryPlain;
                if (!parts.Auto.RunPlainOnce)
                    break;
            }
            await replication.AfterRunAsync(_state.Status);
            if (_state.Status == TransactionStatus.Idle && parts.Replication.HoldsMessages)
            {
                await _lease.AcquireForCleanupAsync(); // held unless the unit was pipelined (its messages were emitted in a function body)
                await parts.Replication.RescueMessagesAsync(inPlace: !pipelined);
            }
        }
        await parts.States.AfterUnitAsync(new UnitOutcome(engineBatch.Effects, _state.Status, _state.InCopy, _services.EngineState), parts.Link);
        if (changesRoles)
            await roles.AfterUnitAsync();
    }

    private bool ReadsDatabaseSizes(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (_batch.Messages[i].Sql is { Effects.ReadsDatabaseSizes: true })
                return true;
        }
        return false;
    }
}
