using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Replication.Walsender;
using ZeroPg.Security;
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
/// <see cref="Pipelining"/>, <see cref="SessionReplication"/>, <see cref="SessionCancel"/> and <see cref="EngineRestart"/>.
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
    private readonly ClientOutput _clientOutput;
    private readonly SessionServices _services;
    private readonly CancellationToken _connectionClosed;
    private readonly StartupPacket _startup;
    private readonly byte[]? _channelBinding;
    private readonly SessionIdentity _identity = new();
    private readonly ProtocolState _state = new();
    private readonly ClientBatch _batch = new();
    private readonly EngineBatch _engineBatch = new();
    private readonly SessionCancel _cancel;
    private readonly ClientNotifications _notifications;
    private readonly SessionSettings _settings;
    private readonly TempRelations _temp;
    private readonly ClientCursors _cursors;
    private readonly SessionActivity _activity;
    private readonly AdvisoryLocks _advisory;
    private readonly EngineRestart _restart;
    private readonly EngineLease _lease;
    private readonly EngineLink _link;
    private readonly SessionReplication _replication;
    private readonly StatementMapping _statements;

    /// <summary>
    /// Portals bound to COPY ... FROM STDIN. An Execute of one starts the COPY only right after its Bind; anywhere else
    /// (a Describe between, a portal of an earlier unit) it is refused, as PGlite exits on a COPY whose data is not in its call.
    /// Kept until the portal is bound again or closed: a stale name costs a refusal in place of "portal does not exist".
    /// </summary>
    private readonly HashSet<string> _copyPortals = new(StringComparer.Ordinal);
    private readonly AutoPrepare _auto;
    private readonly EngineStateRestore _restore;
    private readonly SessionTimeouts _timeouts;
    private readonly TransactionTimeout _transactionTimeout;
    private readonly UnitRewriter _rewriter;
    private readonly LocalAnswers _local;
    private readonly Pipelining _pipelining;
    private readonly CopyIn _copy;
    private readonly SessionCleanup _cleanup;
    private readonly ClientEncodingAnswers _encodingAnswers;

    /// <summary>A SET / RESET / SHOW client_encoding accepted, to answer as its step.</summary>
    private ClientEncodingStatement? _encodingCommand;

    /// <summary>A simple Query ZeroPg refuses itself: answered with this error and ReadyForQuery, in order.</summary>
    private PgError? _refused;

    /// <summary>On a replication connection (startup parameter replication), what runs its replication commands.</summary>
    private WalsenderSession? _walsender;

    /// <summary>What other sessions ask to read in this one's open transaction (<see cref="LendAsync"/>).</summary>
    private readonly EngineLoans _loans = new();

    /// <summary>The replication command accepted and not yet run (<see cref="AcceptStep.Replication"/>).</summary>
    private ReplicationCommand? _replicationCommand;

    private volatile bool _shutdownRequested;
    private volatile bool _terminateRequested;
    private volatile string? _terminateHint;

    /// <summary>Watchdog's thread: while clients wait for this session's engine, see <see cref="SessionCancel.TryWatchdogCancel"/>.</summary>
    internal bool CancelForWatchdog(TimeSpan bound) => _services.Scheduler.QueueLength > 0 && _cancel.TryWatchdogCancel(bound);

    /// <summary>Why the client may not stay once authenticated (its database does not exist): FATAL after authentication, as Postgres does.</summary>
    private readonly PgError? _refusal;

    /// <summary>A database command (CREATE / DROP / ALTER DATABASE) accepted, to run as its step.</summary>
    private DatabaseStatement? _databaseCommand;

    public ClientSession(ConnectionContext connection, SessionServices services, ConnectionStart start, PgError? refusal = null)
    {
        _refusal = refusal;
        var startup = start.Packet;
        _channelBinding = start.Tls is null ? null : services.Tls.ChannelBindingHash;
        _input = connection.Transport.Input;
        _settings = new SessionSettings(startup.Parameters);
        _clientOutput = new ClientOutput(connection.Transport.Output, new ClientEncoding(_settings.StartupClientEncoding));
        _output = _clientOutput;
        _services = services;
        _connectionClosed = connection.ConnectionClosed;
        _startup = startup;
        _cancel = new SessionCancel(_connectionClosed);
        _notifications = new ClientNotifications(_output, services.Notifications, () => _identity.ProcessId);
        _temp = new TempRelations(_identity);
        _cursors = new ClientCursors(_identity);
        _activity = new SessionActivity(connection.RemoteEndPoint);
        _advisory = new AdvisoryLocks(services, _identity, _cancel, _state, _output, _connectionClosed);
        _transactionTimeout = new TransactionTimeout(_settings, OnTransactionTimeout);
        var heldMessages = new HeldMessages();
        var forwarder = new ReplyForwarder(_output, _settings, _notifications, _cancel, _transactionTimeout, () => _identity.ProcessId, services.Registry,
            services.Options.ClientWriteTimeout,
            () => connection.Abort(new ConnectionAbortedException(
                $"the client read none of its results for {services.Options.ClientWriteTimeout.TotalSeconds:0.#} s (ClientWriteTimeout, --client-write-timeout)")),
            heldMessages);
        _restart = new EngineRestart(services, forwarder, _temp);
        _lease = new EngineLease(this, services, _cancel, _restart, _output, _loans, _connectionClosed);
        _link = new EngineLink(services, forwarder, _cancel, _state, _restart, () => _lease.IsHeld, _lease.Release, () => _identity.ProcessId);
        _replication = new SessionReplication(_link, services, () => _identity.ProcessId, heldMessages);
        _statements = new StatementMapping(services.Statements, _identity);
        _auto = new AutoPrepare(services, _settings, _temp);
        _restore = new EngineStateRestore(services, _settings, _temp, _state);
        _timeouts = new SessionTimeouts(services.Options, _settings, _state);
        _rewriter = new UnitRewriter(_statements, _auto, _restore, _state, _identity, _notifications, services.Registry, _cursors, services);
        _local = new LocalAnswers(_state, _statements, services.Statements, _output);
        _pipelining = new Pipelining(_state, _settings, _temp, _advisory, _statements, services.Scheduler);
        _copy = new CopyIn(services, _state, _link, _restore, _output, _lease);
        _encodingAnswers = new ClientEncodingAnswers(_clientOutput, _state, _settings);
        _cleanup = new SessionCleanup(services, _state, _lease, _link, _statements, _copy, _temp, _cursors, _advisory, _notifications);
    }

    public SessionIdentity Identity => _identity;

    /// <summary>Its row of pg_stat_activity (read by other sessions).</summary>
    internal SessionActivity Activity => _activity;
    /// <summary>The services of the database the client is connected to.</summary>
    internal SessionServices Services => _services;

    /// <summary>Inside a transaction block as its last ReadyForQuery told the client (read from other threads: a hint, not a lock).</summary>
    internal bool InTransactionBlock => _state.Status != TransactionStatus.Idle;

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
            var replication = ReplicationModes.Of(_startup.Parameters);
            SessionStartup.Negotiate(_output, _startup, _settings);
            var user = _startup.Parameters.GetValueOrDefault("user") is { Length: > 0 } name ? name
                : throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet", "Connect with a user name (libpq: user=postgres)."));
            var role = await new ClientAuthentication(_input, _output, _services, _channelBinding).RunAsync(user, LookUpRoleAsync, _connectionClosed);
            if (_refusal is not null)
                throw new PgErrorException(_refusal);
            _identity.Authenticated(role.Name, role.IsSuperuser);
            _settings.Authenticated(role.Name, role.IsSuperuser);
            if (replication != ReplicationMode.None)
            {
                if (!role.IsSuperuser && !role.CanReplicate)
                    throw new PgErrorException(ReplicationErrors.PermissionDenied);
                _walsender = new WalsenderSession(replication, _input, _output, RunReplicationSqlAsync, _services.ReplicationSlots,
                    () => _identity.ProcessId, _services.DatabaseName, _connectionClosed)
                {
                    Exports = new Replication.Snapshots.SnapshotExports(this, _services.Snapshots, () => _services.Engine.Generation, BorrowEngineAsync),
                    SessionSetting = name => _settings.Values.GetValueOrDefault(name),
                    Cluster = _services.Databases?.Slots,
                };
            }
            await CheckStartupSettingsAsync();
            await SessionStartup.GreetAsync(_output, _settings, _identity, _services);
            await MessageLoopAsync();
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, error.Error);
        }
        catch (EngineFailedException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(_output, _restart.LostError(error));
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
        {
            // The client went away; cleanup below undoes what it left open.
        }
        finally
        {
            _loans.Decline();
            _transactionTimeout.Dispose();
            if (_walsender is not null)
                await _walsender.EndAsync();
            await _cleanup.RunAsync();
            await _replication.EndAsync(_lease);
            _services.Registry.Remove(this);
        }
    }

    /// <summary>
    /// The login role (null when it does not exist). Roles belong to the cluster, as in Postgres: the postgres
    /// database's engine holds them, and another database's engine gets a copy of the role at login (so its
    /// session authorization, grants and row-level security work there), with the password verifier of the
    /// cluster's role. The copy in postgres is read from ZeroPg's <see cref="RoleDirectory"/> when it is current;
    /// this database's own roles are read between other clients' batches when its directory is not.
    /// </summary>
    private async Task<LoginRole?> LookUpRoleAsync(string user)
    {
        var primary = _services.Databases?.Primary;
        LoginRole? cluster = null;
        if (primary is not null && !ReferenceEquals(primary, _services))
        {
            await primary.Roles.WaitReadAsync(TimeSpan.FromSeconds(2)); // a role change in postgres is being read back
            primary.Roles.TryGet(user, primary.Engine.Generation, out cluster);
        }
        var local = await LookUpLocalRoleAsync(user);
        if (cluster is null || cluster == local)
            return local;
        await CopyRoleAsync(cluster);
        return cluster;
    }

    private async Task<LoginRole?> LookUpLocalRoleAsync(string user)
    {
        var roles = _services.Roles;
        await _services.Engine.GetAsync(); // the generation the directory is compared with is the running engine's
        if (roles.TryGet(user, _services.Engine.Generation, out var known))
            return known;
        await _lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            await ReadRolesAsync();
            roles.TryGet(user, _services.Engine.Generation, out var read);
            return read;
        }
        finally
        {
            ReleaseEngineIfIdle();
        }
    }

    /// <summary>Reads this engine's pg_authid into its directory (holding the engine, outside a transaction).</summary>
    private async Task ReadRolesAsync()
    {
        // pg_authid is readable by superusers only: the engine may be running as another client's role.
        var lookup = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _services.EngineState);
        var reply = await _link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(lookup, LoginRole.AllSql));
        var rows = reply.Where(m => m[0] == (byte)BackendCode.DataRow).Select(m => LoginRole.FromRow(DataRow.ReadText(m.AsSpan(MessageFramer.HeaderLength)))).ToList();
        _services.Roles.Replace(rows, _services.Engine.Generation);
    }

    /// <summary>Makes this database's engine hold the cluster's role as the postgres database has it.</summary>
    private async Task CopyRoleAsync(LoginRole role)
    {
        await _lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _services.EngineState);
            OwnSql.Append(batch, role.CopySql());
            await _link.RunOwnSqlAsync(ReplyMode.Discard, batch);
            await ReadRolesAsync();
        }
        finally
        {
            ReleaseEngineIfIdle();
        }
    }

    /// <summary>An invalid startup setting ends the connection with the engine's FATAL before the client is in (<see cref="StartupSettingsCheck"/>).</summary>
    private async Task CheckStartupSettingsAsync()
    {
        var check = _services.StartupSettings;
        if (check.Statements(_settings.Values, _identity.Role) is not { } statements)
            return;
        await _lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            if (check.Outcome(_settings.Values, await _link.RunOwnSqlAsync(ReplyMode.Capture, statements)) is { } error)
                throw new PgErrorException(error);
        }
        finally
        {
            _lease.Release();
        }
    }

    /// <summary>The server is stopping: end the session at its next read (a running batch finishes first).</summary>
    internal void RequestShutdown()
    {
        _shutdownRequested = true;
        _input.CancelPendingRead();
    }

    /// <summary>
    /// pg_terminate_backend named this session (called on the caller's engine reader thread): its running query is cancelled and the
    /// connection ends at its next read with Postgres's FATAL 57P01. A client that terminates itself gets its result first.
    /// <paramref name="hint"/> says why when the server itself ends the session (a restore from a snapshot).
    /// </summary>
    internal void RequestTerminate(bool byItself, string? hint = null)
    {
        _terminateHint = hint;
        _terminateRequested = true;
        if (_walsender?.TryTerminateStream() == true)
            return; // its stream ends with FATAL 57P01, as a walsender's
        if (!byItself)
            RequestCancel();
        _input.CancelPendingRead();
    }

    /// <summary>A CancelRequest named this session (called on the canceller's connection).</summary>
    internal void RequestCancel()
    {
        if (_walsender?.TryCancelStream() == true)
            return; // a replication stream ends with 57014; its engine polls are short and left to finish
        _cancel.Request(_lease.IsHeld, _services.Engine);
    }

    /// <summary>The walsender's own statements: run between other clients' units as the engine's role (slots and the
    /// change log are ZeroPg's, whatever role the client logged in as), each statement's rows returned.</summary>
    private async Task<IReadOnlyList<IReadOnlyList<string?[]>>> RunReplicationSqlAsync(IReadOnlyList<string> statements)
    {
        await AcquireForReplicationAsync();
        try
        {
            var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _services.EngineState);
            var reply = await _link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(batch, statements));
            var results = EngineResults.Split(reply);
            return results.Skip(results.Count - statements.Count).ToList(); // the role switch's own result first, when there was one
        }
        finally
        {
            ReleaseEngineIfIdle();
        }
    }

    /// <summary>
    /// The engine for a walsender's own SQL. Once its client is gone the wait is not cancelled by that: a stream's end still writes
    /// the position its client confirmed last (a StandbyStatusUpdate right before it closed), which another client may be waiting to see.
    /// </summary>
    private async Task AcquireForReplicationAsync()
    {
        if (!_connectionClosed.IsCancellationRequested)
        {
            try
            {
                await _lease.AcquireAsync();
                return;
            }
            catch (OperationCanceledException) when (_connectionClosed.IsCancellationRequested)
            {
            }
        }
        await _lease.AcquireForCleanupAsync();
    }

    /// <summary>
    /// Reads for another session inside this one's open transaction (<see cref="EngineLoans"/>): null at once when this session
    /// does not hold the engine; otherwise decided by this session's message loop once its unit is done (<see cref="CanLend"/>
    /// read here could be stale: the client may have this unit's ReadyForQuery, and ask another connection for something
    /// that needs the loan, before this session recorded the transaction the unit opened). Called on the asker's thread.
    /// </summary>
    internal Task<IReadOnlyList<byte[]>?> LendAsync(IReadOnlyList<string> statements)
    {
        var reply = _loans.Ask(statements);
        if (_lease.IsHeld)
            _input.CancelPendingRead(); // wakes an idle session; a busy one serves it after its unit
        else
            _loans.Decline(); // not held, or released since, perhaps before its release declined what was queued
        return reply;
    }

    /// <summary>Holds the engine between units of its open transaction block (not a COPY, not an unfinished extended sequence).</summary>
    private bool CanLend() => _lease.IsHeld && _state.Transaction == TransactionState.InBlock && !_state.InCopy && !_state.SequenceOpenInEngine;

    /// <summary>Runs reads in the transaction of the session that holds the engine, when it can lend it (<see cref="EngineLoans"/>).</summary>
    private async Task<IReadOnlyList<IReadOnlyList<string?[]>>?> BorrowEngineAsync(IReadOnlyList<string> statements)
    {
        if (_services.Scheduler.Owner is not ClientSession holder || holder == this)
            return null;
        return await holder.LendAsync(statements) is { } reply ? EngineResults.Split(reply) : null;
    }

    /// <summary>Timer thread: the client's transaction_timeout ran out. Its running statement is cancelled (or its wait, or its idle read ends); the session then ends it.</summary>
    private void OnTransactionTimeout()
    {
        _cancel.Request(_lease.IsHeld, _services.Engine);
        _input.CancelPendingRead();
    }

    private async Task MessageLoopAsync()
    {
        while (true)
        {
            if (_loans.Pending)
                await _loans.ServeAsync(CanLend, statements => _link.RunOwnSqlAsync(ReplyMode.Capture, statements));
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
                _transactionTimeout.ThrowIfFired();
                _transactionTimeout.Settle(_state.Status, _state.InCopy);
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
        _transactionTimeout.ThrowIfFired();
        if (_shutdownRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command",
                "The ZeroPg server is shutting down; an open transaction was rolled back."));
        if (_terminateRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command", _terminateHint));
        var buffer = result.Buffer;
        var step = AcceptStep.Continue;
        try
        {
            while (step == AcceptStep.Continue && FrontendFramer.TryReadMessage(ref buffer, _services.Options.MaxMessageSize, _state.InCopy, out var code, out var message))
                step = AcceptInClientEncoding(code, message);
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

    /// <summary>
    /// Takes one whole client message after converting its text from the client's encoding to the engine's UTF8
    /// (<see cref="ClientEncoding.ToServer"/>). Text the client's encoding does not hold is refused as Postgres refuses
    /// it: a Query with the error and its ReadyForQuery; an extended message with the error in its place (the rest skipped
    /// to Sync); COPY data by failing the COPY with the error's text.
    /// </summary>
    private AcceptStep AcceptInClientEncoding(FrontendCode code, ReadOnlySequence<byte> message)
    {
        ReadOnlySequence<byte> converted;
        try
        {
            converted = _clientOutput.Encoding.ToServer(code, message);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            switch (code)
            {
                case FrontendCode.Query:
                    _refused = error.Error;
                    return AcceptStep.Refuse;
                case FrontendCode.CopyData or FrontendCode.CopyDone when _state.InCopy:
                    var fail = new System.Buffers.ArrayBufferWriter<byte>(error.Error.Message.Length + 8);
                    CopyFailMessage.Write(fail, error.Error.Message);
                    return _copy.Accept(FrontendCode.CopyFail, new ReadOnlySequence<byte>(fail.WrittenMemory));
                default:
                    var count = _batch.Count;
                    var step = Accept(code, message);
                    if (_batch.Count > count)
                        _batch.RefuseLast(error.Error);
                    return step;
            }
        }
        return Accept(code, converted);
    }

    /// <summary>Takes one whole client message, parsed once here. Synchronous: anything that must wait is returned as a step.</summary>
    private AcceptStep Accept(FrontendCode code, ReadOnlySequence<byte> message)
    {
        if (_state.InCopy)
            return _copy.Accept(code, message);
        switch (code)
        {
            case FrontendCode.Query:
                var text = QueryMessage.ReadSql(message);
                _walsender?.CommandArrived(); // ends the snapshot it exported, as Postgres does
                if (_walsender is not null && AcceptReplication(text) is { } replicationStep)
                    return replicationStep;
                var sql = SqlAnalysis.Of(text);
                if (sql.ClientEncodingCommand is { } encodingCommand)
                {
                    _encodingCommand = encodingCommand;
                    return AcceptStep.ClientEncoding;
                }
                if (_walsender is not null && SetsWithoutWaiting(sql))
                    return AcceptStep.LocalSet;
                if (RefusedStatements.Find(sql, _identity, _services.Registry) is { } refusal)
                {
                    _refused = refusal;
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
                if (sql.DatabaseCommand is { SyntaxError: null, Alone: true } command && _state.Status == TransactionStatus.Idle)
                {
                    // Else the engine refuses it itself, as Postgres does: 25001 in a transaction block or beside other statements.
                    _databaseCommand = command;
                    return AcceptStep.DatabaseCommand;
                }
                if (sql.CopiesFromStdin)
                {
                    _copy.Pend(message, sql);
                    return AcceptStep.StartCopy;
                }
                _batch.Add(code, message, sql);
                _batch.EndUnit();
                return AcceptStep.Continue;
            case FrontendCode.FunctionCall when RefusedStatements.CallsServerFileFunction(message):
                _refused = RefusedStatements.ServerFiles;
                return AcceptStep.Refuse;
            case FrontendCode.Sync:
            case FrontendCode.Flush:
            case FrontendCode.FunctionCall:
                _batch.Add(code, message);
                _batch.EndUnit();
                return AcceptStep.Continue;
            case FrontendCode.Execute:
                _batch.Add(code, message);
                if (!_copyPortals.Contains(_batch.Messages[^1].PortalName!))
                    return AcceptStep.Continue;
                if (ExecutesCopyFromStdin())
                    return AcceptStep.StartExtendedCopy;
                _batch.RefuseLast(RefusedStatements.CopyPortalNotAfterBind);
                return AcceptStep.Continue;
            case FrontendCode.Bind:
                _batch.Add(code, message);
                NoteCopyPortal(_batch.Messages[^1]);
                return AcceptStep.Continue;
            case FrontendCode.Close:
                _batch.Add(code, message);
                if (_batch.Messages[^1] is { TargetsStatement: false, PortalName: { } closed })
                    _copyPortals.Remove(closed);
                return AcceptStep.Continue;
            case FrontendCode.Parse:
            case FrontendCode.Describe:
                _batch.Add(code, message);
                return AcceptStep.Continue;
            case FrontendCode.CopyData:
                _walsender?.CopyDataAfterStream(message); // a status update that arrived after the stream's cancel
                return AcceptStep.Continue;
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

    /// <summary>A Query on a replication connection: a replication command to run, or an error to answer, or null for
    /// plain SQL (which goes to the engine on replication=database, as Postgres allows).</summary>
    private AcceptStep? AcceptReplication(string text)
    {
        try
        {
            if (ReplicationCommandParser.Parse(text) is { } command)
            {
                if (command is ShowCommand && _walsender!.Mode == ReplicationMode.Database)
                    return null; // SQL's SHOW gives the same row and sees this client's own SETs
                _replicationCommand = command;
                return AcceptStep.Replication;
            }
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            _refused = error.Error;
            return AcceptStep.Refuse;
        }
        if (_walsender!.Mode != ReplicationMode.Physical)
            return null;
        _refused = PgError.Error(SqlState.FeatureNotSupported, "cannot execute SQL commands in WAL sender for physical replication",
            "Connect with replication=database to run SQL and logical replication commands.");
        return AcceptStep.Refuse;
    }

    /// <summary>
    /// A replication connection's SET while another client's transaction holds the engine: zero-cache sets lock_timeout on its
    /// walsender connection from inside a transaction that waits for the slot it makes there, so waiting for the engine would
    /// never end. The setting is this client's at once and goes to the engine with its next unit (<see cref="SessionSettings.SetLater"/>).
    /// </summary>
    private bool SetsWithoutWaiting(SqlAnalysis sql)
    {
        if (_state.Status != TransactionStatus.Idle || !_batch.IsEmpty || _lease.IsHeld || _services.Scheduler.Owner is not ClientSession
            || !sql.TryPlainSet(out var name, out var value))
            return false;
        _settings.SetLater(name, value);
        _localSetTag = sql.Sql.TrimStart().StartsWith("RESET", StringComparison.OrdinalIgnoreCase) ? "RESET" : "SET";
        return true;
    }

    private string _localSetTag = "SET";

    /// <summary>The Execute just held runs the portal of the Bind right before it, and that statement is COPY ... FROM STDIN.</summary>
    private bool ExecutesCopyFromStdin()
    {
        var messages = _batch.Messages;
        return messages.Count >= 2 && messages[^2] is { Code: FrontendCode.Bind } bind && bind.PortalName == messages[^1].PortalName
            && BindsCopyFromStdin(bind, messages.Count - 2);
    }

    /// <summary>Remembers whether the portal of the Bind just held runs COPY ... FROM STDIN, for the Execute of it, wherever that comes.</summary>
    private void NoteCopyPortal(ClientMessage bind)
    {
        if (BindsCopyFromStdin(bind, _batch.Messages.Count - 1))
            _copyPortals.Add(bind.PortalName!);
        else
            _copyPortals.Remove(bind.PortalName!);
    }

    private bool BindsCopyFromStdin(ClientMessage bind, int bindAt)
    {
        var messages = _batch.Messages;
        for (var i = bindAt - 1; i >= 0; i--)
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
            case AcceptStep.Replication:
                await SubmitPendingAsync();
                var command = _replicationCommand!;
                _replicationCommand = null;
                try
                {
                    await _walsender!.RunAsync(command, _state.Status != TransactionStatus.Idle);
                    ReadyForQuery.Write(_output, _state.Status);
                    await _output.FlushAsync();
                    await _walsender.AfterReadyAsync(); // a slot made while another client's transaction held the engine
                }
                catch (PgErrorException error) when (!error.Error.IsFatal)
                {
                    await WriteErrorAsync(error.Error, readyCount: 1);
                }
                break;
            case AcceptStep.ClientEncoding:
                await SubmitPendingAsync();
                await _encodingAnswers.AnswerAsync(_encodingCommand!);
                _encodingCommand = null;
                break;
            case AcceptStep.LocalSet:
                CommandComplete.Write(_output, _localSetTag);
                ReadyForQuery.Write(_output, _state.Status);
                await _output.FlushAsync();
                break;
            case AcceptStep.DatabaseCommand:
                await SubmitPendingAsync();
                await RunDatabaseCommandAsync(_databaseCommand!, extended: null);
                _databaseCommand = null;
                break;
            case AcceptStep.StartCopy:
                await SubmitPendingAsync();
                await RunUnitAsync(count: 0, readyCount: 1);
                ReleaseEngineIfIdle();
                break;
            case AcceptStep.FinishCopy:
                using (_cancel.EnterUnit())
                    await _copy.FinishAsync();
                ReleaseEngineIfIdle();
                break;
        }
    }

    /// <summary>Answers or runs the units accepted so far: a deferred BEGIN, a Parse-only unit, or the engine.</summary>
    private async Task SubmitCompleteUnitsAsync()
    {
        while (await TryRunDatabaseUnitAsync())
        {
        }
        var count = _batch.CompleteCount;
        if (count > 0 && !_lease.IsHeld)
        {
            var answered = count == _batch.Count && _local.TryDeferBegin(_batch, count);
            if (answered)
                _activity.Idle(_state.Status, ApplicationName, UnitQuery(count));
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

    /// <summary>
    /// A database command sent in the extended protocol (Npgsql: Parse, Bind, Describe, Execute, Sync): the units before
    /// it run first, then ZeroPg answers it. Only that shape, outside a transaction block, is answered here; any other
    /// goes to the engine, which refuses it in a transaction block or a pipeline as Postgres does (25001).
    /// </summary>
    private async Task<bool> TryRunDatabaseUnitAsync()
    {
        var messages = _batch.Messages;
        var unitStart = 0;
        for (var i = 0; i < _batch.CompleteCount; i++)
        {
            var message = messages[i];
            if (message.Code is FrontendCode.Sync or FrontendCode.Query)
            {
                unitStart = i + 1;
                continue;
            }
            if (message is not { Code: FrontendCode.Parse, StatementName.Length: 0, Sql.DatabaseCommand: { SyntaxError: null, Alone: true } command })
                continue;
            var end = i + 1;
            while (end < _batch.CompleteCount && messages[end].Code != FrontendCode.Sync)
                end++;
            if (end == _batch.CompleteCount || !DatabaseUnitShape(i, end))
                return false; // a unit ended by Flush, not Sync (found by the fuzzer): the engine answers it as it would
            if (unitStart > 0)
            {
                await RunUnitsAsync(unitStart);
                return true;
            }
            if (_state.Status != TransactionStatus.Idle || _state.SequenceOpenInEngine || _lease.IsHeld)
                return false;
            await RunDatabaseCommandAsync(command, extended: end - i == 4);
            _batch.Consume(end + 1);
            return true;
        }
        return false;
    }

    /// <summary>Parse (unnamed), Bind of it to the unnamed portal, an optional Describe, Execute, Sync.</summary>
    private bool DatabaseUnitShape(int parse, int sync)
    {
        var messages = _batch.Messages;
        var length = sync - parse + 1;
        if (length is not (4 or 5) || messages[parse + 1] is not { Code: FrontendCode.Bind, StatementName.Length: 0, BindsNoParameters: true })
            return false;
        return (length == 4 || messages[parse + 2] is { Code: FrontendCode.Describe, Target: TargetedMessage.Portal }) && messages[sync - 1].Code == FrontendCode.Execute;
    }

    /// <summary>Runs CREATE / DROP / ALTER DATABASE through the database catalog and answers it (with the extended protocol's replies when it came that way).</summary>
    private async Task RunDatabaseCommandAsync(DatabaseStatement command, bool? extended)
    {
        if (extended is { } describes)
        {
            EmptyMessage.Write(_output, BackendCode.ParseComplete);
            EmptyMessage.Write(_output, BackendCode.BindComplete);
            if (describes)
                EmptyMessage.Write(_output, BackendCode.NoData);
        }
        try
        {
            if (await _services.Databases.RunAsync(command, _services, _connectionClosed) is { } notice)
                ErrorResponse.Write(_output, notice);
            CommandComplete.Write(_output, command.CommandTag);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            ErrorResponse.Write(_output, error.Error);
        }
        catch (EngineFailedException error)
        {
            ErrorResponse.Write(_output, PgError.Error(SqlState.InternalError, $"{command.CommandTag} failed: {error.Message}"));
        }
        ReadyForQuery.Write(_output, _state.Status);
        await _output.FlushAsync();
    }

    /// <summary>Sends every message held, complete unit or not.</summary>
    private Task SubmitPendingAsync() => _batch.IsEmpty ? Task.CompletedTask : RunUnitsAsync(_batch.Count);

    private async Task RunUnitsAsync(int count)
    {
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
        ReleaseEngineIfIdle();
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

    /// <summary>
    /// Runs the first <paramref name="count"/> accepted messages (or, with none, the pending COPY). The one place
    /// where a typed ERROR becomes replies: the unit did not run, so the client gets the error and the
    /// ReadyForQuery its unit asked for, and stays connected.
    /// </summary>
    /// <returns>How many of the messages were answered: all of them, or fewer when a cancel dropped the unit before it reached
    /// the engine (only its first statement is answered; see <see cref="UnitDroppedException"/>).</returns>
    private async Task<int> RunUnitAsync(int count, int readyCount, bool sequenceOpen = false)
    {
        using var unit = _cancel.EnterUnit();
        _transactionTimeout.UnitStarting(_state.Status);
        _activity.Running(UnitQuery(count), waits: !_lease.IsHeld, ApplicationName);
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
            _activity.Idle(_state.Status, ApplicationName);
        }
        return count;
    }

    private string ApplicationName => _settings.Values.TryGetValue("application_name", out var name) ? name : "";

    /// <summary>The SQL a unit of the first <paramref name="count"/> accepted messages runs, as pg_stat_activity's query shows it.</summary>
    private string UnitQuery(int count)
    {
        count = Math.Min(count, _batch.Count);
        for (var i = count - 1; i >= 0; i--)
        {
            if (_batch.Messages[i].Sql is { } sql)
                return sql.Sql; // a Query, or a Parse (its Bind comes after it)
        }
        for (var i = count - 1; i >= 0; i--)
        {
            if (_batch.Messages[i] is { Code: FrontendCode.Bind } bind && _statements.StatementSql(bind.StatementName!) is { } bound)
                return bound.Sql;
        }
        return _activity.Current.Query;
    }

    /// <summary>Starts a COPY FROM STDIN sent by Bind and Execute (the last two messages held), as <see cref="RunUnitAsync"/> runs a unit.</summary>
    private async Task RunExtendedCopyStartAsync()
    {
        using var unit = _cancel.EnterUnit();
        _transactionTimeout.UnitStarting(_state.Status);
        try
        {
            await _lease.AcquireAsync();
            await _copy.StartExtendedAsync(_rewriter, _batch, _statements);
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
        // Before the reply can reach the client: a login right after it (a pool's next connection) must not take the old role.
        var changesRoles = ChangesRoles(count);
        if (changesRoles)
            _services.Roles.MarkStale();
        if (ReadsDatabaseSizes(count))
            await _services.Databases.Listing.RefreshSizesAsync(_services.DatabaseName, _connectionClosed); // before the engine is held: it asks the other engines
        using (var replication = await _replication.BeginUnitAsync(_batch, count, _statements, _connectionClosed)) // the same for slots
        {
            var pipelined = false;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await _lease.AcquireAsync(UnitAccess.Of(_batch, count, _statements)); // at once when held; again after giving it up (a pipelined run to retry, an advisory lock waited for)
                }
                catch (PgErrorException error) when (attempt == 0 && error.Error.SqlState == SqlState.QueryCanceled)
                {
                    throw new UnitDroppedException(error.Error); // nothing of the unit ran
                }
                _activity.Engaged();
                var before = _state.Status;
                if (attempt > 0)
                    _statements.UndoUnit(); // built again: its statement names are added again
                if (usesAdvisoryLocks)
                    await _advisory.BeforeUseAsync(_link); // installed before the batch is built: building changes the client's statement names
                await replication.BeforeRunAsync(before, usesAdvisoryLocks);
                _rewriter.Build(_engineBatch, _batch, count);
                if (_engineBatch.Effects.Extensions.Count > 0)
                    await _services.Engine.EnsureExtensionsAsync(_engineBatch.Effects.Extensions, _connectionClosed);
                if (usesAdvisoryLocks)
                {
                    if (await _advisory.RunCapturedAsync(_link, _engineBatch, _lease, before))
                        break;
                    continue;
                }
                pipelined = !replication.HoldsEngineAfterRun && _pipelining.CanPipeline(_batch, count, before, sequenceOpen);
                await _link.RunAsync(_engineBatch, ReplyMode.Forward, releaseAfterSubmit: pipelined);
                _auto.RunPlainOnce = _link.Reply.RetryPlain;
                if (!_auto.RunPlainOnce)
                    break;
            }
            await replication.AfterRunAsync(_state.Status);
            if (_state.Status == TransactionStatus.Idle && _replication.HoldsMessages)
            {
                await _lease.AcquireForCleanupAsync(); // held unless the unit was pipelined (its messages were emitted in a function body)
                await _replication.RescueMessagesAsync(inPlace: !pipelined);
            }
        }
        await ApplyEffectsAsync(_engineBatch.Effects);
        if (changesRoles)
        {
            // Read again now when the change is committed, so logins (to any database) see it; else at the next login here.
            if (_state.Status == TransactionStatus.Idle && !_state.InCopy)
                await ReadRolesAsync();
            else
                _services.Roles.MarkStale();
        }
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

    private bool ChangesRoles(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (_batch.Messages[i] is { Code: FrontendCode.Query or FrontendCode.Parse, Sql.ChangesRoles: true })
                return true;
        }
        return false;
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
            await _encodingAnswers.ResetAfterDiscardAsync();
            if (_advisory.Used)
            {
                _advisory.ForgetAll();
                if (_advisory.MayHoldLocks)
                    await _link.RunOwnSqlAsync(ReplyMode.Discard, _advisory.UnlockAllSql);
            }
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
            engineState.SessionAuthorization = _settings.SessionAuthorization; // read back too: a superuser's SET SESSION AUTHORIZATION
        }
        if (effects.UsesAdvisoryLocks && settled)
            await _advisory.KeepAsync(_link);
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
        _transactionTimeout.ThrowIfFired(); // a wait it stopped, not the client's error
        ErrorResponse.Write(_output, error);
        for (var i = 0; i < readyCount; i++)
            ReadyForQuery.Write(_output, _state.Status);
        await _output.FlushAsync();
    }
}
