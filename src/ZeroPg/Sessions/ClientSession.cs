using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// One client connection, after its startup packet: reads its messages, groups them into units of work
/// for the shared engine, and has them run so that the client sees a session of its own. It coordinates;
/// each concern is a collaborator that owns its state: <see cref="ProtocolState"/>, <see cref="ClientBatch"/>
/// (accepted messages, parsed once), <see cref="EngineLease"/> (scheduling), <see cref="UnitRewriter"/> (with
/// <see cref="StatementMapping"/>, <see cref="AutoPrepare"/>, <see cref="EngineStateRestore"/>), <see cref="EngineLink"/>
/// (engine calls and their replies), <see cref="SessionSettings"/>, <see cref="TempRelations"/>,
/// <see cref="AdvisoryLocks"/>, <see cref="ClientNotifications"/>, <see cref="CopyIn"/>, <see cref="LocalAnswers"/>,
/// <see cref="Pipelining"/>, <see cref="SessionCancel"/> and <see cref="EngineRestart"/>.
/// Thread: one logical flow (the message loop); the engine reader thread only runs the session's
/// <see cref="ReplyForwarder"/> while the session awaits its call, a canceller's connection only calls
/// <see cref="RequestCancel"/>, the server only <see cref="RequestShutdown"/>.
/// Errors: a <see cref="PgErrorException"/> of severity ERROR raised while a unit is handled means the unit did
/// not run; it is answered with ErrorResponse and the unit's ReadyForQuery and the client stays
/// (<see cref="RunUnitAsync"/>, the one place). FATAL closes the connection (<see cref="RunAsync"/>).
/// </summary>
internal sealed class ClientSession
{
    /// <summary>Above this, a batch without a Sync yet goes to the engine anyway (the engine keeps extended state across calls).</summary>
    private const int PartialBatchLimit = 4 * 1024 * 1024;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly SessionServices _services;
    private readonly CancellationToken _connectionClosed;
    private readonly StartupPacket _startup;
    private readonly SessionIdentity _identity = new();
    private readonly ProtocolState _state = new();
    private readonly ClientBatch _batch = new();
    private readonly EngineBatch _engineBatch = new();
    private readonly SessionCancel _cancel;
    private readonly ClientNotifications _notifications;
    private readonly SessionSettings _settings;
    private readonly TempRelations _temp;
    private readonly AdvisoryLocks _advisory;
    private readonly EngineRestart _restart;
    private readonly EngineLease _lease;
    private readonly EngineLink _link;
    private readonly StatementMapping _statements;
    private readonly AutoPrepare _auto;
    private readonly EngineStateRestore _restore;
    private readonly SessionTimeouts _timeouts;
    private readonly UnitRewriter _rewriter;
    private readonly LocalAnswers _local;
    private readonly Pipelining _pipelining;
    private readonly CopyIn _copy;
    private readonly SessionCleanup _cleanup;

    /// <summary>A simple Query ZeroPg refuses itself: answered with this error and ReadyForQuery, in order.</summary>
    private PgError? _refused;

    private volatile bool _shutdownRequested;

    public ClientSession(ConnectionContext connection, SessionServices services, StartupPacket startup)
    {
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _services = services;
        _connectionClosed = connection.ConnectionClosed;
        _startup = startup;
        _cancel = new SessionCancel(_connectionClosed);
        _notifications = new ClientNotifications(_output, services.Notifications, () => _identity.ProcessId);
        _settings = new SessionSettings(startup.Parameters);
        _temp = new TempRelations(_identity);
        _advisory = new AdvisoryLocks(services, _identity, _cancel, _state, _output, _connectionClosed);
        var forwarder = new ReplyForwarder(_output, _settings, _notifications, _cancel);
        _restart = new EngineRestart(services, forwarder);
        _lease = new EngineLease(this, services, _cancel, _restart, _output, _connectionClosed);
        _link = new EngineLink(services, forwarder, _cancel, _state, () => _lease.IsHeld, _lease.Release, () => _identity.ProcessId);
        _statements = new StatementMapping(services.Statements, _identity);
        _auto = new AutoPrepare(services, _settings, _temp);
        _restore = new EngineStateRestore(services, _settings, _temp, _state);
        _timeouts = new SessionTimeouts(services.Options, _settings, _state);
        _rewriter = new UnitRewriter(_statements, _auto, _restore, _state, _identity, _notifications);
        _local = new LocalAnswers(_state, _statements, services.Statements, _output);
        _pipelining = new Pipelining(_state, _settings, _temp, _advisory, _statements, services.Scheduler);
        _copy = new CopyIn(services, _state, _link, _restore, _output);
        _cleanup = new SessionCleanup(services, _state, _lease, _link, _statements, _copy, _temp, _advisory, _notifications);
    }

    public SessionIdentity Identity => _identity;

    /// <summary>Bytes of COPY data received in the COPY under way (what pg_stat_progress_copy calls bytes_processed).</summary>
    internal long CopyBytesReceived => _copy.BytesReceived;

    /// <summary>The client waits for an advisory lock another client holds (a wait_event in pg_stat_activity terms).</summary>
    internal bool WaitsForAdvisoryLock => _advisory.Waiting;

    /// <summary>Serves the connection until the client leaves or a fatal error ends it.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (!_services.Registry.TryAdmit(this, _services.Options.MaxConnections))
                throw new PgErrorException(PgError.Fatal(SqlState.TooManyConnections, "sorry, too many clients already",
                    $"This ZeroPg server allows {_services.Options.MaxConnections} connections (--max-connections)."));
            await SessionStartup.GreetAsync(_output, _startup, _settings, _identity, _services);
            await MessageLoopAsync();
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, error.Error);
        }
        catch (EngineFailedException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, _restart.LostError(error, _cancel.KilledEngine));
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
        {
            // The client went away; cleanup below undoes what it left open.
        }
        finally
        {
            await _cleanup.RunAsync();
            _services.Registry.Remove(this);
        }
    }

    /// <summary>The server is stopping: end the session at its next read (a running batch finishes first).</summary>
    internal void RequestShutdown()
    {
        _shutdownRequested = true;
        _input.CancelPendingRead();
    }

    /// <summary>A CancelRequest named this session (called on the canceller's connection).</summary>
    internal void RequestCancel() => _cancel.Request(_lease.IsHeld, _services.Engine);

    private async Task MessageLoopAsync()
    {
        while (true)
        {
            if (!_input.TryRead(out var result))
            {
                _cancel.ClientIdle();
                result = await ReadWithIdleTimeoutAsync();
            }
            await _notifications.EnterAsync(_connectionClosed);
            try
            {
                if (!await ProcessInputAsync(result))
                    return;
                if (_notifications.Drain())
                    await _output.FlushAsync();
            }
            finally
            {
                _notifications.Exit();
            }
            if (_notifications.HasQueued)
                _ = _notifications.PumpAsync();
        }
    }

    /// <summary>
    /// Reads client input, within the client's idle limit (<see cref="SessionTimeouts"/>): a client idle in a
    /// transaction holds the shared engine and blocks everyone, so past its limit it is disconnected and rolled back.
    /// </summary>
    private async ValueTask<ReadResult> ReadWithIdleTimeoutAsync()
    {
        if (_timeouts.Current(_lease.IsHeld) is not { } limit)
            return await _input.ReadAsync(_connectionClosed);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed);
        idle.CancelAfter(limit.After);
        try
        {
            return await _input.ReadAsync(idle.Token);
        }
        catch (OperationCanceledException) when (!_connectionClosed.IsCancellationRequested)
        {
            throw new PgErrorException(SessionTimeouts.ErrorFor(limit));
        }
    }

    /// <summary>Handles what one read brought; false when the session must end.</summary>
    private async Task<bool> ProcessInputAsync(ReadResult result)
    {
        if (_shutdownRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command",
                "The ZeroPg server is shutting down; an open transaction was rolled back."));
        var buffer = result.Buffer;
        var step = AcceptStep.Continue;
        try
        {
            while (step == AcceptStep.Continue && FrontendFramer.TryReadMessage(ref buffer, _services.Options.MaxMessageSize, out var code, out var message))
                step = Accept(code, message);
        }
        finally
        {
            // Stopping early leaves whole messages in the buffer: mark them unexamined so the next read returns them at once.
            if (step == AcceptStep.Continue)
                _input.AdvanceTo(buffer.Start, buffer.End);
            else
                _input.AdvanceTo(buffer.Start);
        }
        if (step == AcceptStep.Terminate)
            return false;
        if (step != AcceptStep.Continue)
            await RunStepAsync(step);
        await SubmitCompleteUnitsAsync();
        return !(result.IsCompleted && step == AcceptStep.Continue);
    }

    /// <summary>Takes one whole client message, parsed once here. Synchronous: anything that must wait is returned as a step.</summary>
    private AcceptStep Accept(FrontendCode code, ReadOnlySequence<byte> message)
    {
        if (_state.InCopy)
            return _copy.Accept(code, message);
        switch (code)
        {
            case FrontendCode.Query:
                var sql = SqlAnalysis.Of(QueryMessage.ReadSql(message));
                if (sql.RunsProgram)
                {
                    _refused = RefusedStatements.Program;
                    return AcceptStep.Refuse;
                }
                if (sql.CopiesFromStdinLater)
                {
                    // PGlite dies on a COPY FROM STDIN whose data is not in the same call, and only a leading COPY gets its data.
                    _refused = PgError.Error(SqlState.FeatureNotSupported,
                        "COPY FROM STDIN must be the first statement of a query in ZeroPg",
                        "Send the COPY as a query of its own (psql scripts and \\copy do); the query did not run.");
                    return AcceptStep.Refuse;
                }
                if (sql.CopiesFromStdin)
                {
                    _copy.Pend(message);
                    return AcceptStep.StartCopy;
                }
                _batch.Add(code, message, sql);
                _batch.EndUnit();
                return AcceptStep.Continue;
            case FrontendCode.Sync:
            case FrontendCode.Flush:
            case FrontendCode.FunctionCall:
                _batch.Add(code, message);
                _batch.EndUnit();
                return AcceptStep.Continue;
            case FrontendCode.Execute:
                _batch.Add(code, message);
                return ExecutesCopyFromStdin() ? AcceptStep.StartExtendedCopy : AcceptStep.Continue;
            case FrontendCode.Parse:
            case FrontendCode.Bind:
            case FrontendCode.Describe:
            case FrontendCode.Close:
                _batch.Add(code, message);
                return AcceptStep.Continue;
            case FrontendCode.CopyData:
            case FrontendCode.CopyDone:
            case FrontendCode.CopyFail:
                // Postgres ignores these outside COPY: a client may still be sending data of a COPY that failed.
                return AcceptStep.Continue;
            case FrontendCode.Terminate:
                return AcceptStep.Terminate;
            default:
                throw ProtocolViolation.Create($"unexpected message type '{(char)code}' after startup");
        }
    }

    /// <summary>The Execute just held runs the portal of the Bind before it, and that statement is COPY ... FROM STDIN.</summary>
    private bool ExecutesCopyFromStdin()
    {
        var messages = _batch.Messages;
        if (messages.Count < 2 || messages[^2] is not { Code: FrontendCode.Bind } bind || bind.PortalName != messages[^1].PortalName)
            return false;
        for (var i = messages.Count - 3; i >= 0; i--)
        {
            if (messages[i] is { Code: FrontendCode.Parse } parse && parse.StatementName == bind.StatementName)
                return parse.Sql!.CopiesFromStdin;
        }
        return _statements.StatementSql(bind.StatementName!) is { CopiesFromStdin: true };
    }

    private async Task RunStepAsync(AcceptStep step)
    {
        switch (step)
        {
            case AcceptStep.StartExtendedCopy:
                if (_batch.Count > 2)
                    await RunUnitsAsync(_batch.Count - 2); // what came before the Bind runs first (the engine keeps an open sequence)
                await RunExtendedCopyStartAsync();
                break;
            case AcceptStep.Refuse:
                // Whatever came before the refused Query runs first, so replies stay in order.
                await SubmitPendingAsync();
                await WriteErrorAsync(_refused!, readyCount: 1);
                _refused = null;
                break;
            case AcceptStep.StartCopy:
                await SubmitPendingAsync();
                await RunUnitAsync(count: 0, readyCount: 1);
                ReleaseEngineIfIdle();
                break;
            case AcceptStep.SendCopyPart:
                await _copy.SendPartAsync();
                break;
            case AcceptStep.FinishCopy:
                await _copy.FinishAsync();
                ReleaseEngineIfIdle();
                break;
        }
    }

    /// <summary>Answers or runs the units accepted so far: a deferred BEGIN, a Parse-only unit, or the engine.</summary>
    private async Task SubmitCompleteUnitsAsync()
    {
        var count = _batch.CompleteCount;
        if (count > 0 && !_lease.IsHeld)
        {
            var answered = count == _batch.Count && _local.TryDeferBegin(_batch, count);
            if (answered || _local.TryAnswerParses(_batch, count))
            {
                _batch.Consume(count);
                await _output.FlushAsync();
                if (answered)
                    return;
                count = 0;
            }
        }
        if (count > 0)
            await RunUnitsAsync(count);
        if (_batch.ByteCount > PartialBatchLimit)
            await SubmitPendingAsync();
    }

    /// <summary>Sends every message held, complete unit or not.</summary>
    private Task SubmitPendingAsync() => _batch.IsEmpty ? Task.CompletedTask : RunUnitsAsync(_batch.Count);

    private async Task RunUnitsAsync(int count)
    {
        var sequenceOpen = _batch.SequenceOpenAfter(count, _state.SequenceOpenInEngine);
        await RunUnitAsync(count, _batch.ReadyCount(count), sequenceOpen);
        _batch.Consume(count);
        _state.Sent(sequenceOpen);
        ReleaseEngineIfIdle();
    }

    /// <summary>
    /// Runs the first <paramref name="count"/> accepted messages (or, with none, the pending COPY). The one place
    /// where a typed ERROR becomes replies: the unit did not run, so the client gets the error and the
    /// ReadyForQuery its unit asked for, and stays connected.
    /// </summary>
    private async Task RunUnitAsync(int count, int readyCount, bool sequenceOpen = false)
    {
        using var unit = _cancel.EnterUnit();
        try
        {
            if (count > 0)
            {
                await ExecuteAsync(count, sequenceOpen);
            }
            else
            {
                await _lease.AcquireAsync();
                await _copy.StartAsync();
            }
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            await WriteErrorAsync(error.Error, readyCount);
        }
    }

    /// <summary>Starts a COPY FROM STDIN sent by Bind and Execute (the last two messages held), as <see cref="RunUnitAsync"/> runs a unit.</summary>
    private async Task RunExtendedCopyStartAsync()
    {
        using var unit = _cancel.EnterUnit();
        try
        {
            await _lease.AcquireAsync();
            await _copy.StartExtendedAsync(_rewriter, _batch);
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

    private async Task ExecuteAsync(int count, bool sequenceOpen)
    {
        var usesAdvisoryLocks = UnitRewriter.UsesAdvisoryLocks(_batch, count);
        for (var attempt = 0; ; attempt++)
        {
            await _lease.AcquireAsync(); // at once when held; again after giving it up (a pipelined run to retry, an advisory lock waited for)
            var before = _state.Status;
            if (attempt > 0)
                _statements.UndoUnit(); // built again: its statement names are added again
            if (usesAdvisoryLocks)
                await _advisory.BeforeUseAsync(_link); // installed before the batch is built: building changes the client's statement names
            _rewriter.Build(_engineBatch, _batch, count);
            if (_engineBatch.Effects.Extensions.Count > 0)
                await _services.Engine.EnsureExtensionsAsync(_engineBatch.Effects.Extensions, _connectionClosed);
            if (usesAdvisoryLocks)
            {
                if (await _advisory.RunCapturedAsync(_link, _engineBatch, _lease, before))
                    break;
                continue;
            }
            await _link.RunAsync(_engineBatch, ReplyMode.Forward, releaseAfterSubmit: _pipelining.CanPipeline(_batch, count, before, sequenceOpen));
            _auto.RunPlainOnce = _link.Reply.RetryPlain;
            if (!_auto.RunPlainOnce)
                break;
        }
        await ApplyEffectsAsync(_engineBatch.Effects);
    }

    /// <summary>What the unit changed in this client's own session state.</summary>
    private async Task ApplyEffectsAsync(UnitEffects effects)
    {
        var engineState = _services.EngineState;
        _auto.EndSchemaChangeIfIdle(_state.Status);
        if (effects.DiscardAllAnswered)
        {
            // This client's DISCARD ALL, without touching the others sharing the engine; its settings are reset by its next batch.
            // Its statement names went when the batch was built, in order (a pool writes the reset in front of the next batch),
            // and the LISTENs after it in the batch are applied below.
            _notifications.UnlistenAll();
            _settings.Reset();
            if (_advisory.Used)
                await _link.RunOwnSqlAsync(ReplyMode.Discard, _advisory.UnlockAllSql);
        }
        _notifications.Apply(effects);
        if (effects.DeallocatesAll)
        {
            // DEALLOCATE ALL or DISCARD ALL ran in the engine itself: its statements are gone for everyone (re-prepared on use,
            // closing first). The client's own names go only if it did run: DISCARD ALL fails inside a transaction block.
            _services.Statements.Forget();
            if (_state.Status != TransactionStatus.Failed)
                _statements.Own.Clear();
        }
        if (effects.DropsAllTemp)
        {
            // ZeroPg's advisory lock functions were temp objects too; other clients' temp tables are gone.
            engineState.AdvisoryInstalledGeneration = -1;
            engineState.TempOwner = null;
        }
        if (effects.UnlistensEngine)
            await _link.RunOwnSqlAsync(ReplyMode.Discard, _services.Notifications.ListenSql());
        if (effects.UsesAdvisoryLocks)
            _advisory.Changed();
        _settings.Note(effects);
        _temp.Note(effects);
        var settled = _state.Status == TransactionStatus.Idle && !_state.InCopy;
        if (_settings.Dirty && settled)
        {
            _settings.ApplySnapshot(OwnSql.TextPairs(await _link.RunOwnSqlAsync(ReplyMode.Capture, _settings.SnapshotSql())));
            engineState.AppliedSettings = _settings.Copy();
        }
        if (_temp.Dirty && settled)
            _temp.ApplyDiscovered(OwnSql.TextPairs(await _link.RunOwnSqlAsync(ReplyMode.Capture, TempRelations.DiscoverSql)), engineState);
    }

    private void ReleaseEngineIfIdle()
    {
        if (_state.CanReleaseEngine)
            _lease.Release();
    }

    private async Task WriteErrorAsync(PgError error, int readyCount)
    {
        ErrorResponse.Write(_output, error);
        for (var i = 0; i < readyCount; i++)
            ReadyForQuery.Write(_output, _state.Status);
        await _output.FlushAsync();
    }
}
