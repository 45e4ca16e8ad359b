using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Replication.Walsender;

namespace ZeroPg.Sessions;

/// <summary>
/// One client connection, after its startup packet, in the manner of postgres.c's PostgresMain: the message loop, and
/// dispatch of each step a message asks for to the collaborator that owns it. The collaborators are wired once in
/// <see cref="SessionComposition"/>: <see cref="MessageAcceptor"/> takes messages into the <see cref="ClientBatch"/>,
/// <see cref="UnitRunner"/> runs units in the shared engine (with <see cref="UnitRewriter"/>, <see cref="EngineLink"/> and the
/// session objects of <see cref="SessionStates"/>), <see cref="SessionRoles"/>, <see cref="DatabaseCommands"/>,
/// <see cref="ReplicationConnection"/>, <see cref="EngineLending"/>, <see cref="CopyIn"/> and <see cref="SessionCleanup"/>.
/// Thread: one logical flow (the message loop); the engine reader thread only runs the session's
/// <see cref="ReplyForwarder"/> while the session awaits its call, a canceller's connection only calls
/// <see cref="RequestCancel"/>, the server only <see cref="RequestShutdown"/>.
/// Errors: a <see cref="PgErrorException"/> of severity ERROR raised while a unit is handled means the unit did
/// not run; it is answered with ErrorResponse and the unit's ReadyForQuery and the client stays
/// (<see cref="UnitRunner.RunUnitAsync"/>, the one place). FATAL closes the connection (<see cref="RunAsync"/>).
/// </summary>
internal sealed class ClientSession
{
    /// <summary>Above this, a batch without a Sync yet goes to the engine anyway (the engine keeps extended state across calls).</summary>
    private const int PartialBatchLimit = 4 * 1024 * 1024;


    private readonly SessionComposition _parts;
    private readonly SessionServices _services;
    private readonly PipeReader _input;
    private readonly ClientOutput _output;
    private readonly ProtocolState _state;
    private readonly ClientBatch _batch;
    private readonly CancellationToken _connectionClosed;
    private readonly StartupPacket _startup;
    private readonly byte[]? _channelBinding;
    private readonly MessageAcceptor _acceptor;
    private readonly UnitRunner _units;
    private readonly SessionRoles _roles;
    private readonly DatabaseCommands _databases;
    private readonly EngineLending _lending;

    /// <summary>Why the client may not stay once authenticated (its database does not exist): FATAL after authentication, as Postgres does.</summary>
    private readonly PgError? _refusal;

    /// <summary>On a replication connection (startup parameter replication), what runs its replication commands.</summary>
    private ReplicationConnection? _replication;

    /// <summary>The idle limit's token source of <see cref="ReadWithIdleTimeoutAsync"/>, linked to the connection.</summary>
    private CancellationTokenSource? _idleRead;

    private readonly HeldEngineWatch _heldEngine;
    private volatile bool _shutdownRequested;
    private volatile bool _terminateRequested;
    private volatile string? _terminateHint;

    public ClientSession(ConnectionContext connection, SessionServices services, ConnectionStart start, PgError? refusal = null)
    {
        _refusal = refusal;
        _startup = start.Packet;
        _channelBinding = start.Tls is null ? null : services.Tls.ChannelBindingHash;
        _abortConnection = () => connection.Abort(new ConnectionAbortedException("the server is shutting down"));
        _services = services;
        _connectionClosed = connection.ConnectionClosed;
        _parts = new SessionComposition(this, services, _startup.Parameters, connection.Transport.Input, connection.Transport.Output, _connectionClosed, connection.RemoteEndPoint,
            () => connection.Abort(new ConnectionAbortedException(
                $"the client read none of its results for {services.Options.ClientWriteTimeout.TotalSeconds:0.#} s (ClientWriteTimeout, --client-write-timeout), or for {ReplyForwarder.CancelledReadGrace.TotalSeconds:0.#} s after its statement was cancelled")),
            OnTransactionTimeout);
        _input = _parts.Input;
        _heldEngine = new HeldEngineWatch(services.Engine, _parts.Lease, _parts.Restart, _input.CancelPendingRead, () => _replication is null);
        _output = _parts.Output;
        _state = _parts.State;
        _batch = _parts.Batch;
        _roles = new SessionRoles(_parts);
        _units = new UnitRunner(_parts, _roles);
        _databases = new DatabaseCommands(_parts, _units);
        _lending = new EngineLending(this, _parts);
        _acceptor = new MessageAcceptor(_parts, new CopyPortals(_batch, _parts.Statements));
        _parts.Forwarder.Owner = DescribeClient;
    }

    /// <summary>For the log of a batch that ran on past its cancel: who sent it (its startup packet's parameters, as sent).</summary>
    private string DescribeClient()
        => $"client {_parts.Identity.ProcessId} ({_parts.Activity.Client.Address}:{_parts.Activity.Client.Port}), startup parameters "
           + Engine.BatchHead.Printable(string.Join(' ', _startup.Parameters.Select(p => $"{p.Key}={p.Value}")));

    public SessionIdentity Identity => _parts.Identity;

    /// <summary>Its row of pg_stat_activity (read by other sessions).</summary>
    internal SessionActivity Activity => _parts.Activity;

    /// <summary>The engine time and calls of this session's current turn with the engine (<see cref="EngineLink.TurnWork"/>).</summary>
    internal (TimeSpan Busy, int Calls) TurnWork => _parts.Link.TurnWork;

    /// <summary>Whether the client is still connected, and whether it sent Terminate (<see cref="SessionCancel.ConnectionState"/>).</summary>
    internal string ConnectionState => _parts.Cancel.ConnectionState;

    /// <summary>The services of the database the client is connected to.</summary>
    internal SessionServices Services => _services;

    /// <summary>Inside a transaction block as its last ReadyForQuery told the client (read from other threads: a hint, not a lock).</summary>
    internal bool InTransactionBlock => _state.Status != TransactionStatus.Idle;

    /// <summary>Bytes of COPY data received in the COPY under way (what pg_stat_progress_copy calls bytes_processed).</summary>
    internal long CopyBytesReceived => _parts.Copy.BytesReceived;

    /// <summary>The client waits for an advisory lock another client holds (a wait_event in pg_stat_activity terms).</summary>
    internal bool WaitsForAdvisoryLock => _parts.Advisory.Waiting;

    /// <summary>Watchdog's thread: while clients wait for this session's engine, see <see cref="SessionCancel.TryWatchdogCancel"/>.</summary>
    internal bool CancelForWatchdog(TimeSpan bound, out TimeSpan applied) => _parts.Cancel.TryWatchdogCancel(bound, othersQueued: _services.Scheduler.QueueLength > 0, out applied);

    /// <summary>Reads for another session inside this one's open transaction (<see cref="EngineLending"/>). Called on the asker's thread.</summary>
    internal Task<IReadOnlyList<byte[]>?> LendAsync(IReadOnlyList<string> statements) => _lending.LendAsync(statements);

    /// <summary>Serves the connection until the client leaves or a fatal error ends it.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (!_services.Registry.TryAdmit(this, _services.Options.MaxConnections))
                throw new PgErrorException(PgError.Fatal(SqlState.TooManyConnections, "sorry, too many clients already",
                    $"This ZeroPg server allows {_services.Options.MaxConnections} connections (--max-connections)."));
            var replication = ReplicationModes.Of(_startup.Parameters);
            SessionStartup.Negotiate(_output, _startup, _parts.Settings);
            var user = _startup.Parameters.GetValueOrDefault("user") is { Length: > 0 } name ? name
                : throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet", "Connect with a user name (libpq: user=postgres)."));
            var role = await new ClientAuthentication(_input, _output, _services, _channelBinding).RunAsync(user, _roles.LookUpAsync, _connectionClosed);
            if (_refusal is not null)
                throw new PgErrorException(_refusal);
            _parts.Identity.Authenticated(role.Name, role.IsSuperuser);
            _parts.Settings.Authenticated(role.Name, role.IsSuperuser);
            if (replication != ReplicationMode.None)
            {
                if (!role.IsSuperuser && !role.CanReplicate)
                    throw new PgErrorException(ReplicationErrors.PermissionDenied);
                _replication = _acceptor.Replication = new ReplicationConnection(replication, _parts, _lending, this);
            }
            await CheckStartupSettingsAsync();
            await SessionStartup.GreetAsync(_output, _parts.Settings, _parts.Identity, _services);
            await MessageLoopAsync();
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, error.Error);
        }
        catch (EngineFailedException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, _parts.Restart.LostError(error));
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
        {
            // The client went away; cleanup below undoes what it left open.
        }
        catch (Exception error)
        {
            // A bug of ZeroPg's: the client is told (as Postgres's backend reports an internal error) instead of seeing its
            // connection drop; rethrown for the server's log, which names the exception.
            await ConnectionErrors.TryWriteFatalAsync(_output, PgError.Fatal(SqlState.InternalError,
                $"internal error in ZeroPg: {error.GetType().Name}: {error.Message}", hint: "The server's log has the details; please report it."));
            throw;
        }
        finally
        {
            _lending.Decline();
            _idleRead?.Dispose();
            _heldEngine.Dispose();
            _parts.TransactionTimeout.Dispose();
            if (_replication is not null)
                await _replication.Walsender.EndAsync();
            await _parts.Cleanup.RunAsync();
            await _parts.Replication.EndAsync(_parts.Lease);
            _services.Registry.Remove(this);
        }
    }

    /// <summary>An invalid startup setting ends the connection with the engine's FATAL before the client is in (<see cref="StartupSettingsCheck"/>).</summary>
    private async Task CheckStartupSettingsAsync()
    {
        var check = _services.StartupSettings;
        if (check.Statements(_parts.Settings.Values, _parts.Identity.Role) is not { } statements)
            return;
        await _parts.Lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            if (check.Outcome(_parts.Settings.Values, await _parts.Link.RunOwnSqlAsync(ReplyMode.Capture, statements)) is { } error)
                throw new PgErrorException(error);
        }
        finally
        {
            _parts.Lease.Release();
        }
    }

    /// <summary>What the server's stop did to this client (read on the session's own thread, which owns its transaction state).</summary>
    private string ShutdownHint()
    {
        var kept = _services.Options.IsMemory
            ? "an in-memory database (memory://) ends with the server, so its data is gone"
            : "what it committed is in the data directory";
        return _state.Status == TransactionStatus.Idle
            ? $"The ZeroPg server is shutting down. This connection had no open transaction, so nothing of it was rolled back; {kept}."
            : $"The ZeroPg server is shutting down. This connection's open transaction was rolled back: none of it was committed; {kept}.";
    }

    /// <summary>The server is stopping: end the session at its next read (a running batch finishes first).</summary>
    internal void RequestShutdown()
    {
        _shutdownRequested = true;
        _input.CancelPendingRead();
    }

    /// <summary>Shutdown, for a session that did not end in time (a client that reads nothing cannot even take its FATAL): drops its connection.</summary>
    internal void AbortForShutdown() => _abortConnection();

    private readonly Action _abortConnection;

    /// <summary>
    /// pg_terminate_backend named this session (called on the caller's engine reader thread): its running query is cancelled and the
    /// connection ends at its next read with Postgres's FATAL 57P01. A client that terminates itself gets its result first.
    /// <paramref name="hint"/> says why when the server itself ends the session (a restore from a snapshot).
    /// </summary>
    internal void RequestTerminate(bool byItself, string? hint = null)
    {
        _terminateHint = hint;
        _terminateRequested = true;
        if (_replication?.Walsender.TryTerminateStream() == true)
            return; // its stream ends with FATAL 57P01, as a walsender's
        if (!byItself)
            RequestCancel();
        _input.CancelPendingRead();
    }

    /// <summary>A CancelRequest named this session (called on the canceller's connection).</summary>
    internal void RequestCancel()
    {
        if (_replication?.Walsender.TryCancelStream() == true)
            return; // a replication stream ends with 57014; its engine polls are short and left to finish
        _parts.Cancel.Request(_parts.Lease.IsHeld, _services.Engine);
    }

    /// <summary>Timer thread: the client's transaction_timeout ran out. Its running statement is cancelled (or its wait, or its idle read ends); the session then ends it.</summary>
    private void OnTransactionTimeout()
    {
        _parts.Cancel.Request(_parts.Lease.IsHeld, _services.Engine);
        _input.CancelPendingRead();
    }

    private async Task MessageLoopAsync()
    {
        var notifications = _parts.Notifications;
        var transactionTimeout = _parts.TransactionTimeout;
        while (true)
        {
            if (_lending.Pending)
                await _lending.ServeAsync();
            if (!_input.TryRead(out var result))
            {
                await _parts.Forwarder.SettleAsync(_parts.Lease.IsHeld); // what an unfinished flush left behind goes out before the client is waited for
                _parts.Cancel.ClientIdle();
                _units.ClientWaited();
                result = await ReadWithIdleTimeoutAsync();
            }
            await notifications.EnterAsync(_connectionClosed);
            try
            {
                if (!await ProcessInputAsync(result))
                    return;
                transactionTimeout.ThrowIfFired();
                transactionTimeout.Settle(_state.Status, _state.InCopy);
                if (notifications.Drain())
                    await _output.FlushAsync();
            }
            finally
            {
                notifications.Exit();
            }
            if (notifications.HasQueued)
                _ = notifications.PumpAsync();
        }
    }

    /// <summary>
    /// Reads client input, within the client's idle limit (<see cref="SessionTimeouts"/>): a client idle in a
    /// transaction holds the shared engine and blocks everyone, so past its limit it is disconnected and rolled back.
    /// One token source serves every such read (reset after each), so a read inside a transaction makes no new timer.
    /// </summary>
    private ValueTask<ReadResult> ReadWithIdleTimeoutAsync()
    {
        _heldEngine.BeforeIdleRead();
        // Without a limit the read is the transport's own: no async method of ours around it, whose box each statement's wait
        // would allocate and whose continuation each message would pass through.
        return _parts.Timeouts.Current(_parts.Lease.IsHeld) is { } limit ? ReadWithinAsync(limit) : _input.ReadAsync(_connectionClosed);
    }

    private async ValueTask<ReadResult> ReadWithinAsync(IdleLimit limit)
    {
        var after = limit.After;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var idle = _idleRead ??= CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed);
            idle.CancelAfter(after);
            try
            {
                return await _input.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (!_connectionClosed.IsCancellationRequested)
            {
                // The contended limit ends the client only once someone has waited for the engine that long too; until then it
                // is looked at again when the longest waiter would reach it.
                var waited = limit.Kind is IdleLimitKind.Contended or IdleLimitKind.ContendedAborted or IdleLimitKind.ContendedUnsynced ? _services.Scheduler.LongestWait : limit.After;
                if (waited >= limit.After)
                    throw new PgErrorException(SessionTimeouts.ErrorFor(limit));
                after = limit.After - waited;
                if (_parts.Timeouts.Own(_parts.Lease.IsHeld) is { } own)
                {
                    var left = own.After - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                    if (left <= TimeSpan.Zero)
                        throw new PgErrorException(SessionTimeouts.ErrorFor(own));
                    after = after < left ? after : left;
                }
            }
            finally
            {
                if (!idle.TryReset())
                {
                    idle.Dispose();
                    _idleRead = null;
                }
            }
        }
    }

    /// <summary>Handles what one read brought; false when the session must end.</summary>
    private async Task<bool> ProcessInputAsync(ReadResult result)
    {
        _parts.TransactionTimeout.ThrowIfFired();
        if (_shutdownRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command", ShutdownHint()));
        if (_terminateRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command", _terminateHint));
        _heldEngine.ThrowIfLost();
        var buffer = result.Buffer;
        var step = AcceptStep.Continue;
        var drained = _batch.Count == 0;
        try
        {
            while (step == AcceptStep.Continue && FrontendFramer.TryReadMessage(ref buffer, _services.Options.MaxMessageSize, _state.InCopy, out var code, out var message))
                step = _acceptor.Accept(code, message);
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
        {
            // What the client sent before its Terminate runs first, as in Postgres, even when its connection closed right after
            // (a client that writes its last statements and Terminate, then exits without reading): it left, it did not vanish.
            _parts.Cancel.ClientTerminated();
            await SubmitCompleteUnitsAsync();
            return false;
        }
        // One whole unit that came by itself after everything before it ran is a new request, not more of a pipeline: the
        // session cannot see whether the client had its replies, and on a loaded machine a client that waits for each reply
        // (pgbench's TPC-B) has its next statement read by the time the session comes back for input (UnitRunner's limit).
        if (drained && _batch.IsOneUnit)
            _units.ClientWaited();
        if (step != AcceptStep.Continue)
            await RunStepAsync(step);
        await SubmitCompleteUnitsAsync();
        return !(result.IsCompleted && step == AcceptStep.Continue);
    }

    private async Task RunStepAsync(AcceptStep step)
    {
        switch (step)
        {
            case AcceptStep.StartExtendedCopy:
                if (_batch.Count > 2)
                    await _units.RunPipelineAsync(_batch.Count - 2); // what came before the Bind runs first (the engine keeps an open sequence), in slices as any pipeline
                await _units.RunExtendedCopyStartAsync();
                break;
            case AcceptStep.Refuse:
                // Whatever came before the refused Query runs first, so replies stay in order.
                await _units.SubmitPendingAsync();
                await _units.WriteErrorAsync(_acceptor.Take<PgError>(), readyCount: 1);
                break;
            case AcceptStep.Replication:
                await _units.SubmitPendingAsync();
                await _replication!.RunCommandAsync(_units.WriteErrorAsync);
                break;
            case AcceptStep.ClientEncoding:
                await _units.SubmitPendingAsync();
                await _parts.EncodingAnswers.AnswerAsync(_acceptor.Take<Sql.ClientEncodingStatement>());
                break;
            case AcceptStep.LocalSet:
                CommandComplete.Write(_output, _replication!.LocalSetTag);
                ReadyForQuery.Write(_output, _state.Status);
                await _output.FlushAsync();
                break;
            case AcceptStep.DatabaseCommand:
                await _units.SubmitPendingAsync();
                await _databases.RunAsync(_acceptor.Take<Sql.DatabaseStatement>(), extended: null);
                break;
            case AcceptStep.StartCopy:
                await _units.SubmitPendingAsync();
                await _units.RunUnitAsync(count: 0, readyCount: 1);
                _parts.Lease.ReleaseIfIdle(_state);
                break;
            case AcceptStep.FinishCopy:
                using (_parts.Cancel.EnterUnit())
                {
                    try
                    {
                        await _parts.Copy.FinishAsync();
                    }
                    finally
                    {
                        _parts.Activity.Idle(_state.Status, _units.ApplicationName);
                    }
                }
                _parts.Lease.ReleaseIfIdle(_state);
                break;
        }
    }

    /// <summary>Answers or runs the units accepted so far: a database command, a deferred BEGIN, a Parse-only unit, or the engine.</summary>
    private async Task SubmitCompleteUnitsAsync()
    {
        while (await _databases.TryRunExtendedAsync())
        {
        }
        var count = _batch.CompleteCount;
        if (count > 0 && !_parts.Lease.IsHeld)
        {
            var local = _parts.Local;
            var answered = count == _batch.Count && local.TryDeferBegin(_batch, count);
            if (answered)
                _parts.Activity.Idle(_state.Status, _units.ApplicationName, _units.UnitQuery(count));
            if (answered || local.TryAnswerParses(_batch, count))
            {
                _batch.Consume(count);
                await _output.FlushAsync();
                if (answered)
                    return;
                count = 0;
            }
        }
        if (count > 0 && (_parts.Portals.AnswerLeading(_batch, count) is > 0 and var read ? read
            : _parts.Lease.IsHeld ? 0 : _parts.Deferred.AnswerLeading(_batch, count)) is > 0 and var leading)
        {
            _batch.Consume(leading); // rows of a portal read ahead, a BEGIN and SET LOCALs kept on paper, or a transaction failed in the queue
            count -= leading;
            await _output.FlushAsync();
        }
        await _units.RunPipelineAsync(count);
        if (_batch.ByteCount > PartialBatchLimit)
            await _units.SubmitPendingAsync();
    }
}
