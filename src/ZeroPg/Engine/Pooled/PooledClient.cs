using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// One client of the pool, after its greeting: its messages go to a backend lent for the transaction (from the first message
/// that needs one to the ReadyForQuery that leaves the backend idle, outside a transaction, with no Query or Sync of the
/// client's still unanswered), and the backend's replies come back byte for byte (<see cref="ForwardAsync"/>). A client that
/// leaves state in its session (<see cref="SessionPins"/>) keeps its backend until it leaves; a backend a client leaves inside
/// a transaction, a COPY, an unfinished extended sequence or pinned is closed, never lent again. Settings move with the client
/// instead (<see cref="PooledSettings"/>): read back when it gives a backend back after changing them, set ahead of its
/// first message on a backend that has others.
/// Threads: the client's loop (<see cref="RunAsync"/>) and, while a backend is held, its forwarder; <see cref="_gate"/> orders
/// what both touch: the backend held, whether it may go back. A canceller calls only <see cref="CancelAsync"/>.
/// </summary>
internal sealed class PooledClient(BackendPool pool, LoginRoleCache loginRoles, PoolKey key, PipeReader input, PipeWriter output, int maxMessageSize)
{
    private readonly ClientGate _gate = new();
    private readonly ArrayBufferWriter<byte> _toBackend = new(16 * 1024);
    private PooledBackend? _backend;
    private ValueTask _forwarding; // the last forwarder (awaited once: as the next starts, or as the client leaves)
    private int _outstanding; // Queries, Syncs and function calls sent whose ReadyForQuery has not come back
    private bool _unsynced; // extended-protocol messages sent since the last Sync
    private volatile byte _status = (byte)TransactionStatus.Idle;
    private bool _skipUntilSync; // an extended sequence failed before reaching a backend: its messages are dropped up to its Sync
    private readonly BackendWaiter _waiter = new(); // the client's place in the pool's queue, reused wait after wait
    private readonly DeferredBegin _begin = new(); // a BEGIN answered here, sent ahead of the client's next message
    private char[] _sql = new char[256]; // the statement text of the message being taken (StatementText), reused
    private volatile bool _closed;
    private volatile bool _rolesMayChange; // set by the loop as it sends a statement that may change roles; the forwarder forgets the login roles when its transaction ends

    /// <summary>Why the client keeps its backend for the rest of its session (null: lent per transaction).</summary>
    public string? Pinned { get; private set; }

    /// <summary>ZeroPg's process id for the client (its BackendKeyData).</summary>
    public int ProcessId { get; set; }

    /// <summary>The client's application_name: each backend it is lent gets it (pg_stat_activity, current_setting, logs).</summary>
    public string ApplicationName { get; set; } = "";

    /// <summary>The client's startup application_name: what a RESET of it (RESET ALL, DISCARD ALL) goes back to.</summary>
    public string StartupApplicationName { get; init; } = "";

    private int _swallow; // ReadyForQuery-ended replies to ZeroPg's own statements sent ahead of the client's, not forwarded

    /// <summary>Repeated simple Queries run through statements prepared on the backend (null: --no-auto-prepare).</summary>
    public AutoPreparedRuns? AutoPrepare { get; init; }

    /// <summary>The client's session settings: its startup parameters, then what its SETs left.</summary>
    public PooledSettings Settings { get; init; } = new([]);

    public bool HoldsBackend => _backend is not null;

    public async Task RunAsync(CancellationToken connectionClosed)
    {
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(connectionClosed);
                if (_closed)
                    return; // its backend ended and the client was told
                var buffer = result.Buffer;
                var ended = false;
                await _gate.WaitAsync(connectionClosed);
                try
                {
                    while (!ended && MessageFramer.TryPeekHeader(buffer, LengthWord.CountsItself, out var code, out var length))
                    {
                        if (length > maxMessageSize)
                            throw new PgErrorException(PgError.Fatal(SqlState.ProtocolViolation, $"invalid message length {length}"));
                        if (buffer.Length < length)
                            break;
                        var message = buffer.Slice(0, length);
                        buffer = buffer.Slice(length);
                        if (code == (byte)FrontendCode.Terminate)
                        {
                            ended = true;
                            break;
                        }
                        var frontend = (FrontendCode)code;
                        var sql = StatementText(frontend, message); // decoded once: SHOW POOLS and the pin check both read it
                        if (frontend == FrontendCode.Query && _backend is null && !_skipUntilSync && !_begin.Pending && _begin.BeginTag(sql!.Value.Span) is { } tag)
                        {
                            // No backend for a BEGIN: the block takes one with its first statement (DeferredBegin). No forwarder runs
                            // while the client holds no backend, so this loop alone writes to the client.
                            _begin.Take();
                            _status = (byte)TransactionStatus.InTransaction;
                            CommandComplete.Write(output, tag);
                            ReadyForQuery.Write(output, TransactionStatus.InTransaction);
                            await output.FlushAsync(connectionClosed);
                            continue;
                        }
                        PooledBackend? lent = null;
                        if (NeedsBackend(frontend, sql) && pool.TryTakeOrQueue(key, _waiter, out lent, out var wait) && lent is null)
                        {
                            // The wait for a backend, awaited by this loop itself (one state machine for the connection's life): at 64
                            // clients on 10 backends almost every transaction waits, and each async method between the loop and the
                            // waiter was a state machine suspended and resumed per transaction.
                            try
                            {
                                using (pool.AbandonWhenCancelled(_waiter, connectionClosed))
                                    lent = await wait;
                                lent ??= await pool.LogInForAsync(key, _waiter, connectionClosed); // given a slot: a backend of its own
                            }
                            catch (PgErrorException error) when (!error.Error.IsFatal && !connectionClosed.IsCancellationRequested)
                            {
                                await AnswerUnlentAsync(frontend, error.Error, connectionClosed);
                                continue; // the message is dropped, as any that got no backend
                            }
                        }
                        ended = !await TakeAsync(frontend, message, sql, lent, connectionClosed);
                    }
                    await SendAsync(connectionClosed);
                }
                finally
                {
                    _gate.Release();
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (ended || result.IsCompleted)
                    return;
            }
        }
        finally
        {
            await LeaveAsync();
        }
    }

    /// <summary>
    /// The message needs a backend the client does not hold (<see cref="TakeAsync"/> would lend one): the loop then takes it, or
    /// waits for it, first.
    /// </summary>
    private bool NeedsBackend(FrontendCode frontend, ReadOnlyMemory<char>? sql) =>
        _backend is null && !_skipUntilSync
        && (_begin.Pending // inside a block the backend answers everything, in order
            || (frontend is not (FrontendCode.Sync or FrontendCode.Flush or FrontendCode.CopyData or FrontendCode.CopyDone or FrontendCode.CopyFail)
                && !(frontend == FrontendCode.Query && ShowPools.Matches(sql!.Value.Span))));

    /// <summary>
    /// One whole message of the client: answered here, dropped, or added to what goes to its backend; <paramref name="lent"/>: a
    /// backend the loop took for it (<see cref="NeedsBackend"/>). False: the client is ended.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TakeAsync(FrontendCode frontend, ReadOnlySequence<byte> message, ReadOnlyMemory<char>? sql, PooledBackend? lent, CancellationToken connectionClosed)
    {
        if (_skipUntilSync)
        {
            if (frontend != FrontendCode.Sync)
                return true;
            _skipUntilSync = false;
            if (_backend is null)
            {
                ReadyForQuery.Write(output, _begin.Pending ? _begin.Status : TransactionStatus.Idle);
                await output.FlushAsync(connectionClosed);
                return true;
            }
        }
        if (_backend is null && !_begin.Pending)
        {
            if (frontend == FrontendCode.Sync || frontend == FrontendCode.Flush)
            {
                if (frontend == FrontendCode.Sync)
                {
                    ReadyForQuery.Write(output, TransactionStatus.Idle); // nothing of the client's is in a backend
                    await output.FlushAsync(connectionClosed);
                }
                return true;
            }
            if (frontend == FrontendCode.Query && ShowPools.Matches(sql!.Value.Span))
            {
                ShowPools.Write(output, pool);
                await output.FlushAsync(connectionClosed);
                return true;
            }
            if (frontend is FrontendCode.CopyData or FrontendCode.CopyDone or FrontendCode.CopyFail)
                return true; // the rest of a COPY whose statement failed before a backend: Postgres ignores them too
        }
        if (_backend is null && !await LendAsync(frontend, lent, connectionClosed))
            return true;
        message = ShowPoolsAsSql(frontend, message, sql);
        Pin(frontend, message, sql);
        switch (frontend)
        {
            case FrontendCode.Query or FrontendCode.FunctionCall:
                Interlocked.Increment(ref _outstanding);
                AutoPrepare?.CountUnit();
                break;
            case FrontendCode.Sync:
                Interlocked.Increment(ref _outstanding);
                AutoPrepare?.CountUnit();
                _unsynced = false;
                break;
            case FrontendCode.Parse or FrontendCode.Bind or FrontendCode.Describe or FrontendCode.Execute or FrontendCode.Close:
                _unsynced = true;
                break;
        }
        if (!TryWriteAutoPrepared(frontend, message, sql))
        {
            foreach (var segment in message)
                _toBackend.Write(segment.Span);
        }
        if (_toBackend.WrittenCount >= 64 * 1024)
            await SendAsync(connectionClosed);
        return true;
    }

    /// <summary>
    /// Lends the client <paramref name="backend"/>, or (null) a backend it takes or waits for here; false when none came (its
    /// error is answered): the message is dropped.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> LendAsync(FrontendCode frontend, PooledBackend? backend, CancellationToken connectionClosed)
    {
        if (backend is null && !pool.TryTakeIdle(key, out backend))
        {
            backend = await WaitForBackendAsync(frontend, connectionClosed);
            if (backend is null)
                return false;
        }
        if (Settings.StartupUnchecked || (Settings.Role is not null && backend.Settings != Settings.Sql))
        {
            // A round trip of its own, unlike the preamble below: a startup parameter Postgres refuses is answered to the client,
            // and a role that can no longer be set (dropped, membership revoked) ends the client rather than leave its statement
            // running as the login role.
            try
            {
                await backend.QueryAsync((backend.Settings == "" ? "" : PooledBackend.ResetSql + ";") + Settings.Sql, connectionClosed);
            }
            catch (PgErrorException error) when (!error.Error.IsFatal && !connectionClosed.IsCancellationRequested)
            {
                pool.Discard(backend);
                if (!Settings.StartupUnchecked)
                    throw new PgErrorException(error.Error with
                    {
                        Severity = "FATAL",
                        Message = $"the session's role \"{Settings.Role}\" could not be set on a pooled backend: {error.Error.Message}",
                        Hint = "The role was dropped or the login's membership in it revoked since its SET ROLE; reconnect.",
                    });
                await AnswerUnlentAsync(frontend, error.Error, connectionClosed);
                return false;
            }
            catch
            {
                pool.Discard(backend);
                throw;
            }
            Settings.StartupUnchecked = false;
            if (backend.Settings != "")
                backend.ApplicationName = PooledBackend.LoginApplicationName;
            backend.Settings = Settings.Sql;
        }
        _backend = backend;
        _status = (byte)(_begin.Pending ? _begin.Status : TransactionStatus.Idle);
        pool.MarkLent(backend, ProcessId);
        if (backend.Settings != Settings.Sql)
        {
            // Another client's settings (or unknown ones) out first, then the client's, ahead of its message in the same write;
            // their replies are dropped (ForwardAsync). The reset goes alone: a setting of the client's that fails then leaves the
            // backend reset, never with another client's settings.
            if (backend.Settings != "")
            {
                _toBackend.Write(WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes(PooledBackend.ResetSql), 0]));
                _swallow++;
                backend.ApplicationName = PooledBackend.LoginApplicationName;
            }
            if (Settings.Sql.Length > 0)
            {
                _toBackend.Write(WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes(Settings.Sql), 0]));
                _swallow++;
            }
            backend.Settings = Settings.Sql;
        }
        if (backend.ApplicationName != ApplicationName)
        {
            // Ahead of the client's message, in the same write: no round trip of its own; its reply is dropped (ForwardAsync).
            _toBackend.Write(WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes($"SET application_name TO '{ApplicationName.Replace("'", "''")}'"), 0]));
            _swallow++;
            backend.ApplicationName = ApplicationName;
        }
        _swallow += _begin.WriteAhead(_toBackend); // the client's BEGIN, last before its message; its replies dropped as the preamble's
        if (_forwarding.IsCompleted)
            _forwarding.GetAwaiter().GetResult(); // the last lending's forwarder ended (its state machine goes back to the pool)
        _forwarding = ForwardAsync(backend);
        return true;
    }

    /// <summary>Waits for a backend, cancellable by the client's CancelRequest; null when none came (its error is answered).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PooledBackend?> WaitForBackendAsync(FrontendCode frontend, CancellationToken connectionClosed)
    {
        try
        {
            return await pool.AcquireAsync(key, _waiter, connectionClosed);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal && !connectionClosed.IsCancellationRequested)
        {
            await AnswerUnlentAsync(frontend, error.Error, connectionClosed);
            return null;
        }
    }

    /// <summary>The error of a message that got no backend; the rest of its extended sequence is dropped up to its Sync.</summary>
    private async Task AnswerUnlentAsync(FrontendCode frontend, PgError error, CancellationToken connectionClosed)
    {
        ErrorResponse.Write(output, error);
        if (_begin.Pending)
            _begin.Fail(); // an error inside a block fails it, as in Postgres
        if (frontend is FrontendCode.Query or FrontendCode.FunctionCall)
            ReadyForQuery.Write(output, _begin.Pending ? _begin.Status : TransactionStatus.Idle);
        else
            _skipUntilSync = frontend != FrontendCode.Sync;
        await output.FlushAsync(connectionClosed);
    }

    /// <summary>SHOW POOLS that a backend must answer in order (extended protocol, or in a transaction): rewritten to SQL of the pool's figures.</summary>
    private ReadOnlySequence<byte> ShowPoolsAsSql(FrontendCode frontend, ReadOnlySequence<byte> message, ReadOnlyMemory<char>? sql)
    {
        if (sql is null || !ShowPools.Matches(sql.Value.Span))
            return message;
        if (frontend == FrontendCode.Query)
            return new ReadOnlySequence<byte>(WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes(ShowPools.Sql(pool)), 0]));
        var body = message.Slice(MessageFramer.HeaderLength).ToArray();
        var nameEnd = Array.IndexOf(body, (byte)0);
        var queryEnd = Array.IndexOf(body, (byte)0, nameEnd + 1);
        byte[] rewritten = [.. body.AsSpan(0, nameEnd + 1), .. Encoding.UTF8.GetBytes(ShowPools.Sql(pool)), .. body.AsSpan(queryEnd)];
        return new ReadOnlySequence<byte>(WireClient.Typed(FrontendCode.Parse, rewritten));
    }

    private void Pin(FrontendCode frontend, ReadOnlySequence<byte> message, ReadOnlyMemory<char>? sql)
    {
        if (sql is not null && SessionPins.MayChangeRoles(sql.Value.Span))
            _rolesMayChange = true;
        if (Pinned is not null)
        {
            // DISCARD ALL outside a transaction leaves the backend as a new session (its settings are read back as it goes back);
            // sent extended (Npgsql's commands), an unnamed Parse that starts its sequence: it runs first, so never in a pipeline.
            if (_status == (byte)TransactionStatus.Idle && SessionPins.IsDiscardAll(sql is { } text ? text.Span : "")
                && (frontend == FrontendCode.Query || (frontend == FrontendCode.Parse && !_unsynced && !IsNamedParse(message))))
            {
                Pinned = null;
                Settings.MayChange(sql!.Value.ToString());
            }
            return;
        }
        var changesSettings = false;
        Pinned = frontend switch
        {
            FrontendCode.Query => SessionPins.Reason(sql!.Value.Span, out changesSettings),
            FrontendCode.Parse => IsNamedParse(message) ? "a named prepared statement" : SessionPins.Reason(sql!.Value.Span, out changesSettings),
            FrontendCode.FunctionCall => "a function call",
            _ => null,
        };
        if (changesSettings)
            Settings.MayChange(sql!.Value.ToString());
    }

    /// <summary>
    /// A Query written to the backend as a run of a statement prepared there (<see cref="AutoPreparedRuns"/>): not for a pinned
    /// client (its session's own state may shadow what the statement was planned for), in an extended sequence (the run's Sync
    /// would end it), in a failed block, or with settings not yet read back (the statement is shared by clients of equal settings).
    /// </summary>
    private bool TryWriteAutoPrepared(FrontendCode frontend, ReadOnlySequence<byte> message, ReadOnlyMemory<char>? sql)
    {
        if (AutoPrepare is not { } auto)
            return false;
        if (frontend is (FrontendCode.Query or FrontendCode.FunctionCall) && _unsynced)
            auto.Stop(); // the backend skips it if the sequence before it failed: no ReadyForQuery answers it (see AutoPreparedRuns.Stop)
        if (sql is not { } text)
            return false;
        auto.Note(text.Span, _backend!);
        if (frontend != FrontendCode.Query || Pinned is not null || _unsynced || _status == (byte)TransactionStatus.Failed || Settings.Changed)
            return false;
        // Outside a block with nothing else of the client's on the backend (_status is then the last unit's), a run that fails before it
        // binds can be sent again as it came.
        var alone = _status == (byte)TransactionStatus.Idle && Volatile.Read(ref _outstanding) == 1;
        return auto.TryWrite(_toBackend, _backend!, text.Span, message, Settings.Sql, alone);
    }

    /// <summary>
    /// An auto-prepared run failed before it bound: its client's Query goes to the backend again as it came when nothing else of the
    /// client's is there (so the client gets the plain Query's answer), under the gate so no message of the client's goes in between.
    /// </summary>
    private async ValueTask<bool> TryRetryAsync(PooledBackend backend, AutoPreparedRuns auto)
    {
        if (!_gate.TryEnter())
            return false; // the loop is taking more of the client's messages: they may already be on the backend
        try
        {
            if (Volatile.Read(ref _outstanding) != 1 || _unsynced || _backend != backend || _closed)
                return false;
            await backend.WriteAsync(auto.RetryQuery);
            auto.Retried();
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A Parse's statement name is not empty (its first byte, after the header, is not the name's terminator).</summary>
    private static bool IsNamedParse(ReadOnlySequence<byte> message)
    {
        var body = message.Slice(MessageFramer.HeaderLength);
        return !body.IsEmpty && body.FirstSpan[0] != 0;
    }

    /// <summary>
    /// The SQL of a Query or a Parse (null for other messages), decoded into the client's own buffer (no string per statement):
    /// valid until the next message's.
    /// </summary>
    private ReadOnlyMemory<char>? StatementText(FrontendCode frontend, ReadOnlySequence<byte> message)
    {
        if (frontend is not (FrontendCode.Query or FrontendCode.Parse))
            return null;
        var body = message.Slice(MessageFramer.HeaderLength);
        if (frontend == FrontendCode.Parse && body.PositionOf((byte)0) is { } nameEnd)
            body = body.Slice(body.GetPosition(1, nameEnd));
        if (body.PositionOf((byte)0) is { } textEnd)
            body = body.Slice(0, textEnd);
        var length = checked((int)body.Length); // UTF-8 never decodes to more chars than bytes
        if (_sql.Length < length)
            _sql = new char[Math.Max(length, _sql.Length * 2)];
        return _sql.AsMemory(0, Encoding.UTF8.GetChars(body, _sql));
    }

    /// <summary>Writes what the client sent since the last call to its backend, in one write.</summary>
    private async Task SendAsync(CancellationToken connectionClosed)
    {
        if (_toBackend.WrittenCount == 0)
            return;
        var backend = _backend!;
        try
        {
            await backend.WriteAsync(_toBackend.WrittenMemory, connectionClosed);
        }
        catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            backend.Broken = true; // its forwarder sees the end and tells the client
        }
        _toBackend.ResetWrittenCount();
    }

    /// <summary>
    /// The backend's replies to the client until the backend goes back to the pool (a ReadyForQuery that leaves it idle, nothing
    /// of the client's unanswered, not pinned) or ends. Runs while the backend is held.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // one per lending: no state machine allocated each time
    private async ValueTask ForwardAsync(PooledBackend backend)
    {
        // No yield first: started by the client's loop before its message is written, it runs only to its first read, which
        // waits; the reply then wakes it on the socket's thread, with no thread-pool hop per lending.
        var reader = backend.Reader;
        try
        {
            while (true)
            {
                while (reader.TryTake(out var message))
                {
                    var code = (BackendCode)message.Span[0];
                    if (_swallow > 0)
                    {
                        if (code == BackendCode.ReadyForQuery)
                            _swallow--;
                        else if (code == BackendCode.ErrorResponse)
                            backend.Settings = null; // a preamble failed: the next lending resets the backend whatever it was given
                        continue;
                    }
                    if (AutoPrepare is { } auto)
                    {
                        var reply = auto.Take(code, message.Span, backend);
                        if (reply is AutoPreparedRuns.Reply.Drop or AutoPreparedRuns.Reply.Hold)
                            continue;
                        if (reply == AutoPreparedRuns.Reply.Decide)
                        {
                            if (await TryRetryAsync(backend, auto))
                                continue;
                            output.Write(auto.TakeHeldError()); // then its ReadyForQuery, as any
                        }
                    }
                    if (code == BackendCode.ParameterStatus)
                        Settings.Changed = true; // a reported setting changed, perhaps inside a function the scan cannot see into
                    if (code == BackendCode.NotificationResponse)
                        WriteNotification(message.Span);
                    else
                        output.Write(message.Span);
                    if (code != BackendCode.ReadyForQuery)
                        continue;
                    _status = message.Span[MessageFramer.HeaderLength];
                    if (_rolesMayChange && _status == (byte)TransactionStatus.Idle)
                    {
                        _rolesMayChange = false;
                        loginRoles.Forget();
                    }
                    if (Interlocked.Decrement(ref _outstanding) > 0 || _status != (byte)TransactionStatus.Idle || Pinned is not null)
                        continue;
                    await output.FlushAsync();
                    if (await TryReturnAsync(backend))
                        return;
                }
                var flush = output.FlushAsync();
                if (!flush.IsCompleted)
                    await flush;
                // The socket awaited here, not through async read methods: one reply per wait, each a suspension of this method only.
                BackendReader.Fill fill;
                while ((fill = reader.TryFill(out var wait)) == BackendReader.Fill.Wait)
                    await wait;
                if (fill == BackendReader.Fill.Ended)
                    break;
            }
        }
        catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException or InvalidDataException)
        {
        }
        // The backend ended under the client (its server stopped or killed it): Postgres would have closed the connection too.
        backend.Broken = true;
        if (!_closed)
        {
            _closed = true;
            try
            {
                ErrorResponse.Write(output, PgError.Fatal(SqlState.AdminShutdown, "terminating connection: its pooled backend ended",
                    "The server behind ZeroPg's pool closed the backend (a restart, pg_terminate_backend or a crash); reconnect."));
                await output.FlushAsync();
                await output.CompleteAsync();
                input.CancelPendingRead();
            }
            catch (Exception error) when (error is IOException or InvalidOperationException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>A NotificationResponse names its sender as ZeroPg's client, not the backend that ran its NOTIFY.</summary>
    private void WriteNotification(ReadOnlySpan<byte> message)
    {
        var span = output.GetSpan(message.Length);
        message.CopyTo(span);
        var backendPid = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message[MessageFramer.HeaderLength..]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(span[MessageFramer.HeaderLength..], pool.ClientOf(backendPid));
        output.Advance(message.Length);
    }

    private async Task<bool> TryReturnAsync(PooledBackend backend)
    {
        var usable = true;
        await _gate.WaitAsync();
        try
        {
            if (Volatile.Read(ref _outstanding) != 0 || _unsynced || Pinned is not null || _backend != backend || _closed)
                return false;
            _backend = null;
            // Under the gate: the client's next message waits for the read-back, so nothing of its own is on the backend meanwhile.
            if (Settings.Changed)
                usable = await ReadBackSettingsAsync(backend);
            if (usable && Pinned is not null)
            {
                _backend = backend; // a session authorization the scan missed (set_config in a function): the client keeps it
                return false;
            }
        }
        finally
        {
            _gate.Release();
        }
        if (usable)
            pool.Return(backend);
        else
            pool.Discard(backend);
        return true;
    }

    /// <summary>The settings the client's statements left in its backend's session become its own; false: the backend failed.</summary>
    private async Task<bool> ReadBackSettingsAsync(PooledBackend backend)
    {
        try
        {
            var (held, applicationName, sessionUser) = Settings.Take(await backend.QueryAsync(Settings.ReadBackSql));
            backend.Settings = held;
            if (sessionUser is not null && sessionUser != backend.Key.User)
                Pinned = "SET SESSION AUTHORIZATION"; // not a setting a backend can be given: its session stays the client's
            if (applicationName is not null)
            {
                backend.ApplicationName = applicationName;
                // A RESET of it went back to the backend's login name; the client's own is its startup one, set at its next lending.
                ApplicationName = applicationName == PooledBackend.LoginApplicationName ? StartupApplicationName : applicationName;
            }
            return true;
        }
        catch (Exception error) when (error is PgErrorException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidDataException)
        {
            backend.Broken = true;
            return false;
        }
    }

    /// <summary>A CancelRequest with the client's key: its wait for a backend ends with 57014, or its backend gets a CancelRequest.</summary>
    public async Task CancelAsync()
    {
        if (pool.Cancel(_waiter))
            return;
        await _gate.WaitAsync();
        try
        {
            // Under the gate the backend cannot go back to the pool: the cancel cannot reach another client's statement.
            if (_backend is { } backend && Volatile.Read(ref _outstanding) > 0)
                await pool.Target.CancelAsync(backend.ProcessId, backend.SecretKey);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The client left: a backend it still holds is closed (its transaction rolls back, its session state goes with it).</summary>
    private async Task LeaveAsync()
    {
        _closed = true;
        await _gate.WaitAsync();
        PooledBackend? held;
        try
        {
            held = _backend;
            _backend = null;
        }
        finally
        {
            _gate.Release();
        }
        if (held is not null)
            pool.Discard(held);
        try
        {
            await _forwarding;
        }
        catch (Exception error) when (error is IOException or OperationCanceledException)
        {
        }
    }
}
