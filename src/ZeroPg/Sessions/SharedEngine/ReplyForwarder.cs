using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>What to do with the messages of one engine reply.</summary>
internal enum ReplyMode
{
    /// <summary>Send them to the client.</summary>
    Forward,
    /// <summary>Keep them for the session to inspect (a request ZeroPg made of its own, or one it must look at first).</summary>
    Capture,
    /// <summary>Drop them (cleanup after the client is gone).</summary>
    Discard,
}

/// <summary>
/// One session's engine calls: receives the reply chunks on the engine reader thread, cuts them into
/// messages (<see cref="StreamFramer"/>), lets the <see cref="ReplyRouter"/> match them to the batch, and
/// writes what passes to the client's output (or keeps it, in <see cref="ReplyMode.Capture"/>).
/// Thread: everything here but <see cref="Begin"/> and the properties runs on the engine reader thread,
/// while the session awaits <see cref="EngineCall.Completion"/>; it touches only the client's output, the
/// settings' ParameterStatus filter, the notification queues (thread-safe), the held logical messages and the cancel warning.
/// </summary>
internal sealed class ReplyForwarder : EngineCall
{
    private const int FlushThreshold = 64 * 1024;

    /// <summary>
    /// How much of a reply may wait in the server for a client that is not reading before the engine reader waits for it
    /// (inside the statement: the engine waits too, and with it every other client). Up to this the reader goes on and the
    /// session waits for the client instead, holding nothing (<see cref="SettleAsync"/>), as a backend blocks in its write
    /// holding only its own.
    /// </summary>
    private const int UnreadReplyLimit = 1024 * 1024;

    /// <summary>
    /// How long a client that cancelled its statement may leave its reply unread before it is dropped. The engine host blocks
    /// in its write of the reply, inside the query, where no interrupt is checked: the statement cannot end, and every other
    /// client waits for the shared engine. (Postgres waits as long as the client's socket lets it: there one backend waits.)
    /// </summary>
    internal static readonly TimeSpan CancelledReadGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FlushSlice = TimeSpan.FromMilliseconds(200);

    private readonly ClientOutput _output;
    private readonly SessionSettings _settings;
    private readonly ClientNotifications _notifications;
    private readonly SessionCancel _cancel;
    private readonly TransactionTimeout _transactionTimeout;
    private readonly StreamFramer _framer = new();
    private readonly ReplyRouter _router = new();
    private readonly StreamFramer.MessageHandler _onMessage;
    private readonly ReplyRouter.RouteMessage _route;
    private ReplyMode _mode;
    private bool _dropCopyInResponse;

    private readonly TimeSpan _writeTimeout;
    private readonly Action _abandonClient;
    private readonly Func<int> _processId;
    private readonly Func<bool> _othersWaitedTooLong;
    private byte[]? _ownPrefix;

    private readonly BackendSignals _signals;
    private readonly HeldMessages _heldMessages;

    /// <param name="writeTimeout">How long a flush may wait on a client that reads nothing (<see cref="ZeroPgOptions.ClientWriteTimeout"/>).</param>
    /// <param name="abandonClient">Closes the connection of a client that stopped reading: that cancels its statement in the engine.</param>
    /// <param name="othersWaitedTooLong">True when other clients have waited for the engine past the contended idle limit
    /// (<see cref="ZeroPgOptions.ContendedIdleTimeout"/>): a client that does not read while it holds the engine is dropped then.</param>
    public ReplyForwarder(ClientOutput output, SessionSettings settings, ClientNotifications notifications, SessionCancel cancel, TransactionTimeout transactionTimeout,
        Func<int> processId, SessionRegistry registry, TimeSpan writeTimeout, Action abandonClient, HeldMessages heldMessages, Func<bool> othersWaitedTooLong)
        : base(continuesOnReader: true)
    {
        _othersWaitedTooLong = othersWaitedTooLong;
        _heldMessages = heldMessages;
        _transactionTimeout = transactionTimeout;
        _processId = processId;
        _signals = new BackendSignals(registry, processId);
        _writeTimeout = writeTimeout;
        _abandonClient = abandonClient;
        _output = output;
        _settings = settings;
        _notifications = notifications;
        _cancel = cancel;
        _route = Route;
        _onMessage = message =>
        {
            // Every message of the reply, routed to the client or not: a cancel raised before a statement ended was for that
            // statement (CancelBound stops watching).
            if (message.Backend is BackendCode.CommandComplete or BackendCode.ErrorResponse or BackendCode.ReadyForQuery)
                SawStatementEnd();
            _router.OnMessage(message.Backend, message.Bytes, _route);
        };
    }

    /// <summary>Status of the last ReadyForQuery in the reply, if there was one.</summary>
    public TransactionStatus? LastStatus => _router.LastStatus;

    /// <summary>See <see cref="ReplyRouter.RetryPlain"/>.</summary>
    public bool RetryPlain => _router.RetryPlain;

    /// <summary>See <see cref="ReplyRouter.PreambleFailure"/>.</summary>
    public ErrorReply? PreambleFailure => _router.PreambleFailure;

    /// <summary>See <see cref="ReplyRouter.PreambleErred"/>.</summary>
    public bool PreambleErred => _router.PreambleErred;

    /// <summary>See <see cref="ReplyRouter.PreambleFailedOutsideBlock"/>.</summary>
    public ErrorReply? PreambleFailedOutsideBlock => _router.PreambleFailedOutsideBlock;

    /// <summary>Messages kept in <see cref="ReplyMode.Capture"/> mode, whole (type, length, body).</summary>
    public List<byte[]> Captured { get; } = [];

    /// <summary>True when writing to the client failed: it is gone; the reply is still drained.</summary>
    public bool ClientGone { get; private set; }

    /// <summary>Session: starts a call; with a <paramref name="plan"/>, messages are matched to the batch's messages in order.</summary>
    public void Begin(ReplyMode mode, ReplyPlan? plan = null, bool dropCopyInResponse = false)
    {
        _router.Begin(plan);
        ResetCompletion();
        _framer.Reset();
        _mode = mode;
        _dropCopyInResponse = dropCopyInResponse;
        Captured.Clear();
    }

    /// <summary>The engine was restarted: no state of the old engine session carries over.</summary>
    public void ResetSequence() => _router.ResetSequence();

    /// <summary>An error ended the client's extended sequence (<see cref="ReplyRouter.SkippingToSync"/>).</summary>
    public bool SkippingToSync => _router.SkippingToSync;

    public override async ValueTask OnReplyDataAsync(ReadOnlySequence<byte> data)
    {
        _framer.Feed(data, _onMessage);
        if (_mode == ReplyMode.Forward && _output.UnflushedBytes > FlushThreshold && !StartFlush() && _output.UnflushedBytes > UnreadReplyLimit)
            await FlushAsync();
    }

    public override ValueTask OnReplyEndAsync(ReadOnlySequence<byte> payload)
    {
        _router.OnEnd(_route);
        if (_mode == ReplyMode.Forward)
            StartFlush(); // the reply is whole: the session waits for the client's socket, after it gave the engine up
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Session, before it asks for the engine again and before it waits for the client's next message: the rest of the last
    /// reply goes out, and the session waits until the client took it (within the write timeout, then the client is dropped;
    /// with <paramref name="holdsEngine"/> also once others waited past the contended idle limit). A client that does not read
    /// stops here, and no other client waits for it unless it holds the engine (in a transaction block).
    /// </summary>
    public ValueTask SettleAsync(bool holdsEngine) => _output.FlushPending && !ClientGone ? FlushAsync(engineCall: holdsEngine) : ValueTask.CompletedTask;

    /// <summary>
    /// Session, after the call failed because the engine was killed to stop it: ends the client's reply with
    /// <paramref name="error"/> and the ReadyForQuery messages it still waits for (<see cref="ReplyRouter.Abandon"/>).
    /// The reader thread is done with the call.
    /// </summary>
    public async ValueTask AbandonAsync(PgError error, TransactionStatus status)
    {
        _router.Abandon(error, status, _route);
        if (_mode == ReplyMode.Forward)
            await FlushAsync();
    }

    private void Route(BackendCode code, ReadOnlySpan<byte> message)
    {
        // Past the client's transaction_timeout, the rest of its reply (the cancelled statement's 57014 included) gives way to FATAL 25P04.
        var forward = _mode == ReplyMode.Forward && !ClientGone && !_transactionTimeout.Fired;
        switch (code)
        {
            case BackendCode.ReadyForQuery:
                if (forward && _cancel.TakeWarning() is { } warning)
                    ErrorResponse.Write(_output, warning);
                break;
            case BackendCode.CopyInResponse when _dropCopyInResponse:
                return; // the client already got ZeroPg's own CopyInResponse before it sent the data
            case BackendCode.BackendKeyData:
                return;
            case BackendCode.NotificationResponse:
                var (_, channel, payload) = NotificationReply.Parse(message);
                if (channel == Sql.SqlEdit.SignalChannel)
                {
                    if (_signals.Handle(payload) is { } notAClient && forward)
                        ErrorResponse.Write(_output, notAClient);
                    return;
                }
                _notifications.Dispatch(message, writeInline: forward);
                return;
            case BackendCode.ParameterStatus when _mode == ReplyMode.Forward && !_settings.ShouldReport(message):
                return;
            case BackendCode.NoticeResponse when _heldMessages.TryHold(message):
                return; // a non-transactional logical message's announcement: ZeroPg's, in every mode
            case BackendCode.ErrorResponse or BackendCode.NoticeResponse when forward && NamesOwnObject(message):
                WriteWithOwnPrefixRemoved(message);
                return;
            case BackendCode.ErrorResponse when forward && PreparedTransactionHints.For(message) is { } hint:
                ErrorResponse.WriteWithHintAdded(_output, message, hint);
                return;
        }
        if (forward)
            _output.Write(message);
        else if (_mode == ReplyMode.Capture)
            Captured.Add(message.ToArray());
    }

    /// <summary>"cursor "zp1234_c" does not exist": the client named it c (its cursors and SQL statements are prefixed in the
    /// engine). A method of its own: a lambda's captured variable in <see cref="Route"/> cost an allocation per message.</summary>
    private void WriteWithOwnPrefixRemoved(ReadOnlySpan<byte> message)
    {
        var prefix = "\"" + System.Text.Encoding.ASCII.GetString(_ownPrefix!);
        ErrorResponse.WriteWithMessageEdited(_output, message, text => text.Replace(prefix, "\"", StringComparison.Ordinal));
    }

    private bool NamesOwnObject(ReadOnlySpan<byte> message)
    {
        _ownPrefix ??= System.Text.Encoding.ASCII.GetBytes(Sql.SqlEdit.PrefixedName(_processId(), ""));
        return message.IndexOf(_ownPrefix) >= 0;
    }

    /// <summary>
    /// The client's connection refused the reply (closed, reset) or the client is dropped for not reading: the rest of the reply
    /// is drained, and the connection is aborted, so that the session ends after this unit (its pipeline's later statements do
    /// not run, as a backend ends at "connection to client lost"). A full input pipe can keep the transport from seeing the end
    /// itself, and the unit's own bookkeeping (settings it changed) must still run: nothing is thrown here.
    /// </summary>
    private void LoseClient()
    {
        if (ClientGone)
            return;
        ClientGone = true;
        _abandonClient();
    }

    /// <summary>Flushes without waiting for the client's socket; false when the flush was left unfinished.</summary>
    private bool StartFlush()
    {
        if (ClientGone)
            return true;
        try
        {
            if (_output.StartFlush() is not { } result)
                return false;
            if (result.IsCompleted || result.IsCanceled)
                LoseClient();
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or OperationCanceledException
            or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            LoseClient();
        }
        return true;
    }

    /// <summary>
    /// Flushes and waits for the client's socket within the write timeout; <paramref name="engineCall"/>: on the engine reader
    /// thread, inside the session's call, where the wait also ends once other clients waited past the contended idle limit.
    /// Past either the client is dropped (its statement cancelled in the engine) and the rest of its reply discarded.
    /// </summary>
    private async ValueTask FlushAsync(bool engineCall = true)
    {
        if (ClientGone)
            return;
        try
        {
            var flush = _output.FlushAsync();
            FlushResult result;
            if (flush.IsCompleted || (_writeTimeout <= TimeSpan.Zero && !engineCall))
                result = await flush;
            else
            {
                // The client's socket and the pipe are full: it is not reading. Inside an engine call this is the thread that
                // reads every client's engine replies, and from the session it may be a holder of the engine, so the wait is
                // bounded. A client whose statement was cancelled meanwhile gets CancelledReadGrace from the cancel.
                var pending = flush.AsTask();
                var started = Stopwatch.GetTimestamp();
                var limit = _writeTimeout > TimeSpan.Zero ? _writeTimeout : TimeSpan.MaxValue;
                long cancelSeen = 0;
                while (!pending.IsCompleted)
                {
                    var waited = Stopwatch.GetElapsedTime(started);
                    if (waited >= limit || (cancelSeen != 0 && Stopwatch.GetElapsedTime(cancelSeen) >= CancelledReadGrace)
                        || (engineCall && _othersWaitedTooLong()))
                    {
                        LoseClient();
                        return;
                    }
                    try
                    {
                        await pending.WaitAsync(limit - waited < FlushSlice ? limit - waited : FlushSlice);
                    }
                    catch (TimeoutException)
                    {
                        if (cancelSeen == 0 && _cancel.RaisedInEngine)
                            cancelSeen = Stopwatch.GetTimestamp();
                    }
                }
                result = await pending; // a ValueTask is awaited once: its task gives the result
            }
            if (result.IsCompleted || result.IsCanceled)
                LoseClient();
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or OperationCanceledException
            or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            LoseClient();
        }
    }
}
